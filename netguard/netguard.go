// Package netguard keeps Hookline's outbound requests away from the
// machine and the network it runs on. Whoever may define a connection
// chooses where Hookline sends requests and, with Test Alert, reads the
// answer: without a guard that is a way to read the server's loopback
// services, the private network behind it, and the cloud metadata service
// that hands out the server's own credentials (server-side request forgery).
//
// The check runs when a connection is dialled, on the address the name
// resolved to (Guard.Control as net.Dialer.Control), so a name that
// resolves to a public address when a connection is saved and to a private
// one when it is used (DNS rebinding) is refused all the same.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// ErrForbiddenAddress is what every refusal of the guard matches with
// errors.Is: the target's address may not be reached, and will not be on
// another try.
var ErrForbiddenAddress = errors.New("the target address may not be reached")

// Guard decides which addresses outbound connections may reach. Its zero
// value (and a nil *Guard) refuses every address that is not public.
type Guard struct {
	// AllowPrivate opens every kind of address except Metadata, which only
	// an Allow range that contains it opens: an operator who lets Hookline
	// reach the private network rarely means to hand out its credentials.
	AllowPrivate bool
	// Allow opens these ranges whatever they hold. An IPv4 range also
	// covers the IPv4-mapped IPv6 forms of its addresses.
	Allow []netip.Prefix
}

// Kind is what kind of address an address is, as far as the guard cares.
type Kind int

// The kinds of address. Every kind but Public is refused by default.
const (
	Public      Kind = iota
	Loopback         // 127.0.0.0/8, ::1
	Private          // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
	LinkLocal        // 169.254/16, fe80::/10
	Shared           // 100.64/10: carrier-grade NAT, often a provider's internal network
	Unspecified      // 0.0.0.0/8, ::: Linux connects them to the local host
	Multicast        // 224/4, ff00::/8
	Reserved         // 240/4 (with the broadcast address), IPv4-compatible IPv6 ::/96
	Metadata         // a cloud metadata or credentials service; see metadata
)

func (k Kind) String() string {
	switch k {
	case Public:
		return "a public address"
	case Loopback:
		return "a loopback address"
	case Private:
		return "a private address"
	case LinkLocal:
		return "a link-local address"
	case Shared:
		return "a shared (carrier-grade NAT) address"
	case Unspecified:
		return "an unspecified address"
	case Multicast:
		return "a multicast address"
	case Reserved:
		return "a reserved address"
	case Metadata:
		return "a cloud metadata address"
	}
	return fmt.Sprintf("netguard.Kind(%d)", int(k))
}

// metadata names the addresses of services that answer a plain request
// from inside a cloud with the machine's or the workload's credentials.
var metadata = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "the instance metadata service of AWS, Google Cloud, Azure and others",
	netip.MustParseAddr("fd00:ec2::254"):   "the AWS instance metadata service over IPv6",
	netip.MustParseAddr("169.254.170.2"):   "the AWS ECS task metadata and credentials endpoint",
	netip.MustParseAddr("169.254.170.23"):  "the AWS EKS Pod Identity agent",
	netip.MustParseAddr("fd00:ec2::23"):    "the AWS EKS Pod Identity agent over IPv6",
	netip.MustParseAddr("100.100.100.200"): "the Alibaba Cloud metadata service",
	netip.MustParseAddr("168.63.129.16"):   "the Azure WireServer",
}

type rangeKind struct {
	p netip.Prefix
	k Kind
}

var ranges4 = []rangeKind{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("10.0.0.0/8"), Private},
	{netip.MustParsePrefix("172.16.0.0/12"), Private},
	{netip.MustParsePrefix("192.168.0.0/16"), Private},
	{netip.MustParsePrefix("100.64.0.0/10"), Shared},
	{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
	{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
}

var ranges6 = []rangeKind{
	{netip.MustParsePrefix("::/128"), Unspecified},
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("::/96"), Reserved}, // IPv4-compatible, deprecated; after :: and ::1
	{netip.MustParsePrefix("64:ff9b:1::/48"), Private},
	{netip.MustParsePrefix("fc00::/7"), Private},
	{netip.MustParsePrefix("fec0::/10"), Private}, // site-local, deprecated
	{netip.MustParsePrefix("fe80::/10"), LinkLocal},
	{netip.MustParsePrefix("ff00::/8"), Multicast},
}

// IPv6 ranges whose addresses carry an IPv4 address a gateway or relay
// may deliver to.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
	teredo = netip.MustParsePrefix("2001::/32")
)

// Classify says what kind of address ip is. An IPv6 address that carries
// an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is of the kind of the
// address it carries when that is not public, and via is that IPv4
// address; otherwise via is the zero Addr.
func Classify(ip netip.Addr) (k Kind, via netip.Addr) {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return Reserved, netip.Addr{}
	}
	if _, ok := metadata[ip]; ok {
		return Metadata, netip.Addr{}
	}
	if ip.Is4() {
		return classify(ranges4, ip), netip.Addr{}
	}
	if k := classify(ranges6, ip); k != Public {
		return k, netip.Addr{}
	}
	b := ip.As16()
	var v4 netip.Addr
	switch {
	case nat64.Contains(ip):
		v4 = netip.AddrFrom4([4]byte(b[12:16]))
	case sixTo4.Contains(ip):
		v4 = netip.AddrFrom4([4]byte(b[2:6]))
	case teredo.Contains(ip):
		// The client's address, stored inverted.
		v4 = netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
	default:
		return Public, netip.Addr{}
	}
	if k, _ := Classify(v4); k != Public {
		return k, v4
	}
	return Public, netip.Addr{}
}

func classify(ranges []rangeKind, ip netip.Addr) Kind {
	for _, r := range ranges {
		if r.p.Contains(ip) {
			return r.k
		}
	}
	return Public
}

// Check returns nil when connections may reach ip, and a *ForbiddenError
// when they may not.
func (g *Guard) Check(ip netip.Addr) error {
	if g == nil {
		g = &Guard{}
	}
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return &ForbiddenError{Kind: Reserved}
	}
	k, via := Classify(ip)
	if k == Public || g.allowed(ip) || (via.IsValid() && g.allowed(via)) {
		return nil
	}
	if g.AllowPrivate && k != Metadata {
		return nil
	}
	return &ForbiddenError{Addr: ip, Via: via, Kind: k}
}

func (g *Guard) allowed(ip netip.Addr) bool {
	for _, p := range g.Allow {
		if normalize(p).Contains(ip) {
			return true
		}
	}
	return false
}

// normalize turns an IPv4-mapped range such as ::ffff:10.0.0.0/104 into
// the IPv4 range it stands for, since Check compares unmapped addresses.
func normalize(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// Control checks the address being dialled; it has the signature of
// net.Dialer.Control, which the dialer calls once per address it tries,
// after resolving the name and before connecting. An address it cannot
// read is refused.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &ForbiddenError{Kind: Reserved, Dialled: address}
	}
	return g.Check(ap.Addr())
}

// ForbiddenError is a connection the guard refused. Its message is for the
// user who configured the connection: it says what the address is and
// which hookline serve flag would open it.
type ForbiddenError struct {
	Addr    netip.Addr // the address dialled, IPv4-mapped forms unmapped
	Via     netip.Addr // the IPv4 address Addr carries, when that is what is refused
	Kind    Kind
	Dialled string // the address as the dialler gave it, when it could not be read
}

func (e *ForbiddenError) Error() string {
	if !e.Addr.IsValid() {
		return fmt.Sprintf("the target address %q cannot be read as an IP address, so connections may not reach it", e.Dialled)
	}
	open := hostPrefix(e.Addr)
	var b strings.Builder
	fmt.Fprintf(&b, "the target address %s ", e.Addr)
	switch {
	case e.Via.IsValid() && e.Kind == Metadata:
		fmt.Fprintf(&b, "carries the IPv4 address %s, %s", e.Via, metadata[e.Via])
	case e.Via.IsValid():
		fmt.Fprintf(&b, "carries the IPv4 address %s, %s", e.Via, e.Kind)
	case e.Kind == Metadata:
		fmt.Fprintf(&b, "is %s (%s)", e.Kind, metadata[e.Addr])
	default:
		fmt.Fprintf(&b, "is %s", e.Kind)
	}
	if e.Kind == Metadata {
		fmt.Fprintf(&b, ", which connections may not reach: it hands out the server's credentials; only --allow-targets %s opens it", open)
		return b.String()
	}
	fmt.Fprintf(&b, ", which connections may not reach; start hookline serve with --allow-targets %s or --allow-private-targets", open)
	return b.String()
}

// Is makes every ForbiddenError match ErrForbiddenAddress.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbiddenAddress }

func hostPrefix(a netip.Addr) netip.Prefix {
	return netip.PrefixFrom(a, a.BitLen())
}

// ParsePrefix reads one range of --allow-targets: a CIDR range such as
// 10.0.0.0/8 or fd00::/8, or a single address, which stands for itself
// alone. Host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR range such as 127.0.0.1/32 or fd00::/8", s)
		}
		a = a.Unmap()
		return hostPrefix(a), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range such as 127.0.0.1/32 or fd00::/8", s)
	}
	return normalize(p), nil
}
