// Package ssrftest holds the table of address forms the SSRF guard must refuse or let through,
// shared by the tests of the provider dialer (internal/connector) and of webhook endpoints
// (internal/outbox, internal/app), so both are held to the same list.
package ssrftest

import "strings"

// Form is one way of writing an address.
type Form struct {
	Addr   string // as written in a URL host, without brackets
	Why    string // what it is
	Legacy bool   // an inet_aton spelling: an IP only to some resolvers, a name to Go's
}

// URLHost returns the form as a URL host: IPv6 in brackets, a zone escaped.
func (f Form) URLHost() string {
	if strings.Contains(f.Addr, ":") {
		return "[" + strings.ReplaceAll(f.Addr, "%", "%25") + "]"
	}
	return f.Addr
}

// NonPublic are address forms that must be refused.
var NonPublic = []Form{
	// IPv4 special-purpose space.
	{Addr: "0.0.0.0", Why: "unspecified"},
	{Addr: "0.1.2.3", Why: "this network"},
	{Addr: "10.0.0.1", Why: "private"},
	{Addr: "10.255.255.255", Why: "private"},
	{Addr: "100.64.0.1", Why: "CGNAT"},
	{Addr: "100.127.255.254", Why: "CGNAT"},
	{Addr: "127.0.0.1", Why: "loopback"},
	{Addr: "127.255.255.254", Why: "loopback"},
	{Addr: "169.254.169.254", Why: "metadata"},
	{Addr: "169.254.0.1", Why: "link-local"},
	{Addr: "172.16.0.1", Why: "private"},
	{Addr: "172.31.255.255", Why: "private"},
	{Addr: "192.0.0.8", Why: "IETF protocol assignment"},
	{Addr: "192.0.2.1", Why: "TEST-NET-1"},
	{Addr: "192.88.99.1", Why: "6to4 relay anycast"},
	{Addr: "192.168.0.1", Why: "private"},
	{Addr: "192.168.255.255", Why: "private"},
	{Addr: "198.18.0.1", Why: "benchmarking"},
	{Addr: "198.19.255.255", Why: "benchmarking"},
	{Addr: "198.51.100.7", Why: "TEST-NET-2"},
	{Addr: "203.0.113.9", Why: "TEST-NET-3"},
	{Addr: "224.0.0.1", Why: "multicast"},
	{Addr: "239.255.255.250", Why: "multicast (SSDP)"},
	{Addr: "240.0.0.1", Why: "reserved"},
	{Addr: "255.255.255.255", Why: "broadcast"},
	// Legacy IPv4 spellings.
	{Addr: "2130706433", Why: "127.0.0.1 as one decimal number", Legacy: true},
	{Addr: "0x7f000001", Why: "127.0.0.1 as one hex number", Legacy: true},
	{Addr: "0177.0.0.1", Why: "127.0.0.1 in octal", Legacy: true},
	{Addr: "0x7f.0.0.1", Why: "127.0.0.1 in hex", Legacy: true},
	{Addr: "127.1", Why: "127.0.0.1 in two parts", Legacy: true},
	{Addr: "012.0.0.1", Why: "10.0.0.1 in octal", Legacy: true},
	{Addr: "3232235777", Why: "192.168.1.1 as one number", Legacy: true},
	{Addr: "0xa9.0xfe.0xa9.0xfe", Why: "169.254.169.254 in hex", Legacy: true},
	// IPv6 loopback, unspecified.
	{Addr: "::", Why: "unspecified"},
	{Addr: "::1", Why: "loopback"},
	{Addr: "0:0:0:0:0:0:0:1", Why: "loopback, long form"},
	// IPv4-mapped ::ffff:0:0/96.
	{Addr: "::ffff:127.0.0.1", Why: "IPv4-mapped loopback"},
	{Addr: "::ffff:7f00:1", Why: "IPv4-mapped loopback in hex"},
	{Addr: "::ffff:10.0.0.1", Why: "IPv4-mapped private"},
	{Addr: "::ffff:169.254.169.254", Why: "IPv4-mapped metadata"},
	{Addr: "::ffff:192.168.1.1", Why: "IPv4-mapped private"},
	{Addr: "::ffff:0.0.0.0", Why: "IPv4-mapped unspecified"},
	{Addr: "::ffff:100.64.0.1", Why: "IPv4-mapped CGNAT"},
	// IPv4-compatible ::/96 (deprecated) and SIIT ::ffff:0:0:0/96.
	{Addr: "::a00:1", Why: "IPv4-compatible 10.0.0.1"},
	{Addr: "::127.0.0.1", Why: "IPv4-compatible loopback"},
	{Addr: "::7f00:1", Why: "IPv4-compatible loopback in hex"},
	{Addr: "::a9fe:a9fe", Why: "IPv4-compatible metadata"},
	{Addr: "::8.8.8.8", Why: "IPv4-compatible, deprecated even for a public IPv4"},
	{Addr: "::ffff:0:7f00:1", Why: "SIIT IPv4-translated loopback"},
	// NAT64.
	{Addr: "64:ff9b::7f00:1", Why: "NAT64 loopback"},
	{Addr: "64:ff9b::a9fe:a9fe", Why: "NAT64 metadata"},
	{Addr: "64:ff9b::10.0.0.1", Why: "NAT64 private, dotted"},
	{Addr: "64:ff9b::808:808", Why: "NAT64, routes through a translator"},
	{Addr: "64:ff9b:1::a00:1", Why: "local-use NAT64"},
	// 6to4 2002::/16.
	{Addr: "2002:7f00:1::", Why: "6to4 of loopback"},
	{Addr: "2002:a9fe:a9fe::1", Why: "6to4 of metadata"},
	{Addr: "2002:c0a8:101::1", Why: "6to4 of 192.168.1.1"},
	{Addr: "2002:808:808::1", Why: "6to4, routes through a relay"},
	// Teredo 2001::/32 and the rest of 2001::/23.
	{Addr: "2001:0:4136:e378:8000:63bf:80ff:fffe", Why: "Teredo, client 127.0.0.1"},
	{Addr: "2001::1", Why: "Teredo"},
	{Addr: "2001:2::1", Why: "benchmarking"},
	{Addr: "2001:10::1", Why: "ORCHID"},
	// Documentation, discard, SRv6.
	{Addr: "2001:db8::1", Why: "documentation"},
	{Addr: "3fff::1", Why: "documentation (RFC 9637)"},
	{Addr: "100::1", Why: "discard-only"},
	{Addr: "5f00::1", Why: "SRv6 SID"},
	// Local scopes.
	{Addr: "fc00::1", Why: "unique local"},
	{Addr: "fd00:ec2::254", Why: "cloud metadata (IPv6)"},
	{Addr: "fd12:3456:789a::1", Why: "unique local"},
	{Addr: "fe80::1", Why: "link-local"},
	{Addr: "fe80::1%1", Why: "link-local with a zone"},
	{Addr: "febf::1", Why: "link-local, top of range"},
	{Addr: "fec0::1", Why: "site-local (deprecated)"},
	{Addr: "fec0::a00:1", Why: "site-local with an IPv4 tail"},
	{Addr: "feff::1", Why: "site-local, top of range"},
	{Addr: "ff02::1", Why: "multicast"},
	{Addr: "ff05::1:3", Why: "multicast"},
	// Outside 2000::/3.
	{Addr: "4000::1", Why: "unallocated"},
	{Addr: "1::1", Why: "unallocated"},
}

// Public are address forms that must be let through.
var Public = []Form{
	{Addr: "8.8.8.8"},
	{Addr: "1.1.1.1"},
	{Addr: "93.184.216.34"},
	{Addr: "11.0.0.1"},
	{Addr: "100.128.0.1"},
	{Addr: "172.32.0.1"},
	{Addr: "192.169.0.1"},
	{Addr: "198.20.0.1"},
	{Addr: "::ffff:8.8.8.8"},
	{Addr: "2606:4700:4700::1111"},
	{Addr: "2001:4860:4860::8888"},
	{Addr: "2a00:1450:4001:80b::200e"},
	{Addr: "2620:fe::fe"},
}
