package netguard_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/hookline/hookline/netguard"
)

// denied is a second, independent statement of what the default guard
// refuses, beside net.IP's own classification.
var denied = prefixes(
	"0.0.0.0/8", "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
	"169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
)

var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("fd00:ec2::254"),
}

// FuzzCheck reads arbitrary strings as addresses and as dialled
// host:port pairs: the guard never panics, never lets the default guard
// reach a denied range (IPv4-mapped and NAT64 forms included), never lets
// --allow-private-targets reach a metadata address, and always opens what
// an allow range names.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1", "::ffff:127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "fd00:ec2::254",
		"64:ff9b::a9fe:a9fe", "2002:7f00:1::", "fe80::1%eth0", "203.0.113.7", "2001:db8::1",
		"127.0.0.1:80", "[::1]:443", "[::ffff:169.254.169.254]:80", "0.0.0.0", "", "1.2.3", "::ffff:0:0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		deny, private := &netguard.Guard{}, &netguard.Guard{AllowPrivate: true}
		if err := deny.Control("tcp", s, nil); err == nil {
			ap, perr := netip.ParseAddrPort(s)
			if perr != nil {
				t.Fatalf("Control(%q) allowed an address it cannot read", s)
			}
			mustBeDenied(t, deny, ap.Addr())
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		mustBeDenied(t, deny, a)
		u := a.Unmap().WithZone("")
		for _, m := range metadataAddrs {
			if u == m && private.Check(a) == nil {
				t.Fatalf("--allow-private-targets lets %s reach a metadata address", s)
			}
		}
		open := &netguard.Guard{Allow: []netip.Prefix{netip.PrefixFrom(u, u.BitLen())}}
		if err := open.Check(a); err != nil {
			t.Fatalf("an allow range of %s alone does not open it: %v", u, err)
		}
	})
}

// mustBeDenied fails unless the default guard refuses a when the oracles
// call it non-public, directly or as the IPv4 address of a NAT64 form.
func mustBeDenied(t *testing.T, g *netguard.Guard, a netip.Addr) {
	t.Helper()
	if g.Check(a) != nil {
		return
	}
	candidates := []netip.Addr{a.Unmap().WithZone("")}
	if b := a.As16(); a.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(a.WithZone("")) {
		candidates = append(candidates, netip.AddrFrom4([4]byte(b[12:16])))
	}
	for _, c := range candidates {
		for _, p := range denied {
			if p.Contains(c) {
				t.Fatalf("the default guard lets %s reach %s, in the denied range %s", a, c, p)
			}
		}
		ip := net.IP(c.AsSlice())
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
			t.Fatalf("the default guard lets %s reach %s, which net.IP calls non-public", a, c)
		}
		for _, m := range metadataAddrs {
			if c == m {
				t.Fatalf("the default guard lets %s reach the metadata address %s", a, c)
			}
		}
	}
}
