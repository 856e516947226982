package netguard_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/netguard"
)

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s {
		out = append(out, netip.MustParsePrefix(v))
	}
	return out
}

func TestCheck(t *testing.T) {
	deny := &netguard.Guard{}
	private := &netguard.Guard{AllowPrivate: true}
	lo := &netguard.Guard{Allow: prefixes("127.0.0.1/32")}
	tests := []struct {
		addr  string
		guard *netguard.Guard
		kind  netguard.Kind // what Classify says
		allow bool
	}{
		{"203.0.113.7", deny, netguard.Public, true},
		{"8.8.8.8", deny, netguard.Public, true},
		{"2001:db8::1", deny, netguard.Public, true},
		{"127.0.0.1", deny, netguard.Loopback, false},
		{"127.1.2.3", deny, netguard.Loopback, false},
		{"::1", deny, netguard.Loopback, false},
		{"::ffff:127.0.0.1", deny, netguard.Loopback, false},
		{"10.1.2.3", deny, netguard.Private, false},
		{"172.16.0.1", deny, netguard.Private, false},
		{"172.31.255.255", deny, netguard.Private, false},
		{"172.32.0.1", deny, netguard.Public, true},
		{"192.168.1.1", deny, netguard.Private, false},
		{"::ffff:192.168.1.1", deny, netguard.Private, false},
		{"fd12:3456::1", deny, netguard.Private, false},
		{"fc00::1", deny, netguard.Private, false},
		{"169.254.1.1", deny, netguard.LinkLocal, false},
		{"fe80::1", deny, netguard.LinkLocal, false},
		{"fe80::1%eth0", deny, netguard.LinkLocal, false},
		{"100.64.0.1", deny, netguard.Shared, false},
		{"100.127.255.255", deny, netguard.Shared, false},
		{"100.128.0.1", deny, netguard.Public, true},
		{"0.0.0.0", deny, netguard.Unspecified, false},
		{"0.1.2.3", deny, netguard.Unspecified, false},
		{"::", deny, netguard.Unspecified, false},
		{"224.0.0.1", deny, netguard.Multicast, false},
		{"ff02::1", deny, netguard.Multicast, false},
		{"255.255.255.255", deny, netguard.Reserved, false},
		{"::7f00:1", deny, netguard.Reserved, false}, // IPv4-compatible ::127.0.0.1
		{"169.254.169.254", deny, netguard.Metadata, false},
		{"::ffff:169.254.169.254", deny, netguard.Metadata, false},
		{"fd00:ec2::254", deny, netguard.Metadata, false},
		{"169.254.170.2", deny, netguard.Metadata, false},
		{"100.100.100.200", deny, netguard.Metadata, false},
		{"64:ff9b::7f00:1", deny, netguard.Loopback, false},                      // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", deny, netguard.Metadata, false},                   // NAT64 of 169.254.169.254
		{"64:ff9b::cb00:7107", deny, netguard.Public, true},                      // NAT64 of 203.0.113.7
		{"64:ff9b:1::1", deny, netguard.Private, false},                          // local-use NAT64
		{"2002:a00:1::1", deny, netguard.Private, false},                         // 6to4 of 10.0.0.1
		{"2002:cb00:7107::1", deny, netguard.Public, true},                       // 6to4 of 203.0.113.7
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", deny, netguard.Loopback, false}, // Teredo client 127.0.0.1

		// --allow-private-targets opens everything but metadata.
		{"127.0.0.1", private, netguard.Loopback, true},
		{"10.1.2.3", private, netguard.Private, true},
		{"fe80::1", private, netguard.LinkLocal, true},
		{"64:ff9b::7f00:1", private, netguard.Loopback, true},
		{"169.254.169.254", private, netguard.Metadata, false},
		{"fd00:ec2::254", private, netguard.Metadata, false},
		{"64:ff9b::a9fe:a9fe", private, netguard.Metadata, false},

		// --allow-targets opens its ranges only.
		{"127.0.0.1", lo, netguard.Loopback, true},
		{"::ffff:127.0.0.1", lo, netguard.Loopback, true},
		{"64:ff9b::7f00:1", lo, netguard.Loopback, true},
		{"127.0.0.2", lo, netguard.Loopback, false},
		{"::1", lo, netguard.Loopback, false},
		{"10.0.0.1", lo, netguard.Private, false},
		{"10.0.0.1", &netguard.Guard{Allow: prefixes("::ffff:10.0.0.0/104")}, netguard.Private, true},
		{"fd00::1", &netguard.Guard{Allow: prefixes("fd00::/8")}, netguard.Private, true},
		{"169.254.169.254", &netguard.Guard{Allow: prefixes("169.254.169.254/32")}, netguard.Metadata, true},
		{"169.254.169.254", &netguard.Guard{AllowPrivate: true, Allow: prefixes("10.0.0.0/8")}, netguard.Metadata, false},
		{"127.0.0.1", nil, netguard.Loopback, false}, // a nil guard is the zero guard
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if k, _ := netguard.Classify(a); k != tt.kind {
			t.Errorf("Classify(%s) = %v, want %v", tt.addr, k, tt.kind)
		}
		err := tt.guard.Check(a)
		if (err == nil) != tt.allow {
			t.Errorf("%+v.Check(%s) = %v, want allowed %v", tt.guard, tt.addr, err, tt.allow)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, netguard.ErrForbiddenAddress) {
			t.Errorf("Check(%s) = %v, which is not ErrForbiddenAddress", tt.addr, err)
		}
		var fe *netguard.ForbiddenError
		if !errors.As(err, &fe) || fe.Kind != tt.kind {
			t.Errorf("Check(%s) = %#v, want a *ForbiddenError of kind %v", tt.addr, err, tt.kind)
		}
	}
}

func TestMessages(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1", "the target address 127.0.0.1 is a loopback address, which connections may not reach; start hookline serve with --allow-targets 127.0.0.1/32 or --allow-private-targets"},
		{"::ffff:10.0.0.7", "the target address 10.0.0.7 is a private address, which connections may not reach; start hookline serve with --allow-targets 10.0.0.7/32 or --allow-private-targets"},
		{"fe80::1%eth0", "the target address fe80::1 is a link-local address, which connections may not reach; start hookline serve with --allow-targets fe80::1/128 or --allow-private-targets"},
		{"64:ff9b::7f00:1", "the target address 64:ff9b::7f00:1 carries the IPv4 address 127.0.0.1, a loopback address, which connections may not reach; start hookline serve with --allow-targets 64:ff9b::7f00:1/128 or --allow-private-targets"},
		{"169.254.169.254", "the target address 169.254.169.254 is a cloud metadata address (the instance metadata service of AWS, Google Cloud, Azure and others), which connections may not reach: it hands out the server's credentials; only --allow-targets 169.254.169.254/32 opens it"},
		{"fd00:ec2::254", "the target address fd00:ec2::254 is a cloud metadata address (the AWS instance metadata service over IPv6), which connections may not reach: it hands out the server's credentials; only --allow-targets fd00:ec2::254/128 opens it"},
	}
	for _, tt := range tests {
		err := (&netguard.Guard{}).Check(netip.MustParseAddr(tt.addr))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Check(%s):\n got %v\nwant %s", tt.addr, err, tt.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "127.0.0.1/32", want: "127.0.0.1/32"},
		{in: " 10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "127.0.0.1", want: "127.0.0.1/32"},
		{in: "::1", want: "::1/128"},
		{in: "::ffff:127.0.0.1", want: "127.0.0.1/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "fd00::/8", want: "fd00::/8"},
		{in: "10.0.0.0/33", err: `"10.0.0.0/33" is not a CIDR range such as 127.0.0.1/32 or fd00::/8`},
		{in: "localhost", err: `"localhost" is neither an address nor a CIDR range such as 127.0.0.1/32 or fd00::/8`},
		{in: "fe80::1%eth0", err: `"fe80::1%eth0" is neither an address nor a CIDR range such as 127.0.0.1/32 or fd00::/8`},
		{in: "", err: `"" is neither an address nor a CIDR range such as 127.0.0.1/32 or fd00::/8`},
	}
	for _, tt := range tests {
		p, err := netguard.ParsePrefix(tt.in)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParsePrefix(%q) = %v, %v; want error %s", tt.in, p, err, tt.err)
			}
		case err != nil || p.String() != tt.want:
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func TestControl(t *testing.T) {
	g := &netguard.Guard{Allow: prefixes("127.0.0.1/32")}
	tests := []struct {
		address string
		allow   bool
	}{
		{"127.0.0.1:80", true},
		{"127.0.0.2:80", false},
		{"[::1]:443", false},
		{"[fe80::1%lo]:80", false},
		{"203.0.113.7:443", true},
		{"not an address", false}, // fail closed
		{"", false},
	}
	for _, tt := range tests {
		err := g.Control("tcp", tt.address, nil)
		if (err == nil) != tt.allow {
			t.Errorf("Control(%q) = %v, want allowed %v", tt.address, err, tt.allow)
		}
		if err != nil && !errors.Is(err, netguard.ErrForbiddenAddress) {
			t.Errorf("Control(%q) = %v, not ErrForbiddenAddress", tt.address, err)
		}
	}
}

// TestRebinding resolves one name through a DNS server that answers
// 127.0.0.1 first and 127.0.0.2 afterwards, as a rebinding attacker's
// would: the guard lets the first dial through and refuses the second,
// because it checks the address each dial resolved to.
func TestRebinding(t *testing.T) {
	var queries atomic.Int32
	dns := fakeDNS(t, func() netip.Addr {
		if queries.Add(1) == 1 {
			return netip.MustParseAddr("127.0.0.1")
		}
		return netip.MustParseAddr("127.0.0.2")
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	g := &netguard.Guard{Allow: prefixes("127.0.0.1/32")}
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: g.Control,
		Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "udp", dns)
		}},
	}
	ctx := context.Background()
	c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("rebind.test.", port))
	if err != nil {
		t.Fatalf("first dial, resolved to 127.0.0.1: %v", err)
	}
	c.Close()
	_, err = d.DialContext(ctx, "tcp4", net.JoinHostPort("rebind.test.", port))
	var fe *netguard.ForbiddenError
	if !errors.As(err, &fe) || fe.Addr != netip.MustParseAddr("127.0.0.2") || fe.Kind != netguard.Loopback {
		t.Fatalf("second dial, resolved to 127.0.0.2: err = %v, want a ForbiddenError for 127.0.0.2", err)
	}
	if n := queries.Load(); n != 2 {
		t.Errorf("%d DNS queries, want 2", n)
	}
}

// fakeDNS answers every A query for any name with answer() and every
// other query with no records. It returns its UDP address.
func fakeDNS(t *testing.T, answer func() netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if len(q) < 12 {
				continue
			}
			end := 12 // the question: labels, then type and class
			for end < len(q) && q[end] != 0 {
				end += int(q[end]) + 1
			}
			end += 5
			if end > len(q) {
				continue
			}
			qtype := binary.BigEndian.Uint16(q[end-4:])
			resp := append([]byte{}, q[:end]...)
			binary.BigEndian.PutUint16(resp[2:], 0x8180) // answer, recursion desired and available
			binary.BigEndian.PutUint16(resp[6:], 0)      // answers
			binary.BigEndian.PutUint16(resp[8:], 0)      // authority
			binary.BigEndian.PutUint16(resp[10:], 0)     // additional
			if qtype == 1 {
				binary.BigEndian.PutUint16(resp[6:], 1)
				a := answer().As4()
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
				resp = append(resp, a[:]...)
			}
			pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String()
}
