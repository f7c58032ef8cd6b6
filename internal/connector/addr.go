package connector

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// PublicAddr tells whether ip is an address posbridge may call on a merchant's behalf.
func PublicAddr(ip netip.Addr) bool { return AddrRefusal(ip) == "" }

// AddrRefusal says why posbridge refuses to call ip ("" when it is a public address). IPv4
// inside IPv6 is looked through: an IPv4-mapped address is judged as the IPv4 it carries, and
// every other form that embeds or routes to IPv4 (IPv4-compatible, SIIT, 6to4, NAT64, Teredo)
// is refused whole, naming the IPv4 it leads to, since the translator or relay decides where
// it goes and posbridge has no business going through one.
func AddrRefusal(ip netip.Addr) string {
	if !ip.IsValid() {
		return "not an IP address"
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		v4 := ip.Unmap()
		if r := refusal4(v4); r != "" {
			return r + " (IPv4-mapped IPv6 " + v4.String() + ")"
		}
		return ""
	}
	if ip.Is4() {
		return refusal4(ip)
	}
	return refusal6(ip)
}

type rangeRule struct {
	p      netip.Prefix
	reason string
}

func rules(pairs ...string) []rangeRule {
	out := make([]rangeRule, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, rangeRule{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// refused4 lists the IPv4 space that is not the public internet (IANA special-purpose registry).
var refused4 = rules(
	"0.0.0.0/8", "unspecified or \"this network\" address",
	"10.0.0.0/8", "private address",
	"100.64.0.0/10", "carrier-grade NAT address",
	"127.0.0.0/8", "loopback address",
	"169.254.0.0/16", "link-local address (cloud metadata lives here)",
	"172.16.0.0/12", "private address",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.0.2.0/24", "documentation address",
	"192.31.196.0/24", "AS112 service address",
	"192.52.193.0/24", "AMT relay address",
	"192.88.99.0/24", "6to4 relay anycast address",
	"192.168.0.0/16", "private address",
	"192.175.48.0/24", "AS112 service address",
	"198.18.0.0/15", "benchmarking address",
	"198.51.100.0/24", "documentation address",
	"203.0.113.0/24", "documentation address",
	"224.0.0.0/4", "multicast address",
	"240.0.0.0/4", "reserved address",
)

// refused6 lists the IPv6 space that is not the public internet. Order matters only for the
// reason given: more specific ranges come first.
var refused6 = rules(
	"::1/128", "loopback address",
	"::/128", "unspecified address",
	"::ffff:0:0:0/96", "IPv4-translated (SIIT) address",
	"::/96", "IPv4-compatible IPv6 address (deprecated)",
	"64:ff9b::/96", "NAT64 address",
	"64:ff9b:1::/48", "local-use NAT64 address",
	"100::/64", "discard-only address",
	"2001::/32", "Teredo address",
	"2001:2::/48", "benchmarking address",
	"2001::/23", "IETF protocol assignment",
	"2001:db8::/32", "documentation address",
	"2002::/16", "6to4 address",
	"3fff::/20", "documentation address",
	"5f00::/16", "SRv6 SID address",
	"fc00::/7", "unique local (private) address",
	"fe80::/10", "link-local address",
	"fec0::/10", "site-local address (deprecated)",
	"ff00::/8", "multicast address",
)

var globalUnicast6 = netip.MustParsePrefix("2000::/3")

func refusal4(ip netip.Addr) string {
	if ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "broadcast address"
	}
	for _, r := range refused4 {
		if r.p.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

func refusal6(ip netip.Addr) string {
	for _, r := range refused6 {
		if r.p.Contains(ip) {
			if v4, ok := EmbeddedIPv4(ip); ok {
				why := "leads to " + v4.String()
				if r4 := refusal4(v4); r4 != "" {
					why += ", a " + r4
				}
				return r.reason + " (" + why + ")"
			}
			return r.reason
		}
	}
	if !globalUnicast6.Contains(ip) {
		return "address outside the IPv6 global unicast space"
	}
	return ""
}

// EmbeddedIPv4 returns the IPv4 address an IPv6 address carries or routes to: IPv4-mapped
// (::ffff:a.b.c.d), SIIT (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d
// and 64:ff9b:1::/48 with the IPv4 in the last 32 bits), 6to4 (2002:AABB:CCDD::) and Teredo
// (2001:0:server:...:client XOR ffff:ffff, the client's address is the one returned).
func EmbeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	last := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case ip.Is4In6():
		return ip.Unmap(), true
	case netip.MustParsePrefix("::ffff:0:0:0/96").Contains(ip),
		netip.MustParsePrefix("64:ff9b::/96").Contains(ip),
		netip.MustParsePrefix("64:ff9b:1::/48").Contains(ip):
		return last(12), true
	case netip.MustParsePrefix("::/96").Contains(ip):
		if binary.BigEndian.Uint32(b[12:]) <= 1 { // :: and ::1 are not IPv4
			return netip.Addr{}, false
		}
		return last(12), true
	case netip.MustParsePrefix("2002::/16").Contains(ip):
		return last(2), true
	case netip.MustParsePrefix("2001::/32").Contains(ip):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}

// ParseHostAddr reads a URL host (no port) as an IP address: IPv6 in brackets or not, with a
// zone or not, and the legacy IPv4 spellings inet_aton accepts ("2130706433", "0177.1",
// "0x7f.0.0.1"), which some resolvers and proxies honour.
func ParseHostAddr(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	return parseLegacyIPv4(host)
}

func parseLegacyIPv4(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base, digits := 10, p
		switch {
		case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	lastV, room := vals[len(vals)-1], uint(32-8*(len(vals)-1))
	if lastV >= 1<<room {
		return netip.Addr{}, false
	}
	n |= lastV
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	return netip.AddrFrom4(b), true
}

// CheckHost tells whether a merchant-supplied host (a URL's host, without port) may be called:
// an IP literal in any spelling is judged as such; "localhost" and names under it are refused;
// any other name is resolved (bounded by a short timeout) and refused when one of its
// addresses is not public. A name that does not resolve now passes: the dialer checks the
// address again at every call, so a later rebinding is caught there. The error wraps
// ErrForbiddenHost and says why in a sentence.
func CheckHost(ctx context.Context, host string) error {
	if host == "" {
		return fmt.Errorf("%w: the host is empty", ErrForbiddenHost)
	}
	if ip, ok := ParseHostAddr(host); ok {
		if r := AddrRefusal(ip); r != "" {
			return fmt.Errorf("%w: %s is a %s", ErrForbiddenHost, ip, r)
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("%w: %s is a loopback name", ErrForbiddenHost, host)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if r := AddrRefusal(ip); r != "" {
			return fmt.Errorf("%w: %s resolves to %s, a %s", ErrForbiddenHost, host, ip, r)
		}
	}
	return nil
}
