package sfu

import (
	"crypto/rand"
	"net"
	"net/netip"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// floorPayload is the size of a typical video packet's payload, the one the floor is measured
// with.
const floorPayload = 1100

// udpSink is a loopback UDP socket drained by a goroutine, as a receiver's would be.
func udpSink(tb testing.TB) netip.AddrPort {
	return udpSinkAt(tb, netip.MustParseAddr("127.0.0.1"))
}

// udpSinkAt is udpSink on another of this machine's addresses.
func udpSinkAt(tb testing.TB, ip netip.Addr) netip.AddrPort {
	tb.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func srtpContext(tb testing.TB) *srtp.Context {
	tb.Helper()
	p := srtp.ProtectionProfileAeadAes128Gcm
	keyLen, err := p.KeyLen()
	if err != nil {
		tb.Fatal(err)
	}
	saltLen, err := p.SaltLen()
	if err != nil {
		tb.Fatal(err)
	}
	key, salt := make([]byte, keyLen), make([]byte, saltLen)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	ctx, err := srtp.CreateContext(key, salt, p)
	if err != nil {
		tb.Fatal(err)
	}
	return ctx
}

// BenchmarkFloor is the unavoidable work of forwarding one packet on this machine: marshal an
// RTP packet with a floorPayload-byte payload, SRTP-encrypt it with the profile Ringside
// negotiates first (AEAD_AES_128_GCM), and send it in one UDP datagram on loopback from an
// unconnected socket, as an ICE agent does. Ringside's CPU per forwarded packet is compared
// with it (scripts/bench.sh).
func BenchmarkFloor(b *testing.B) {
	dst := udpSink(b)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx := srtpContext(b)
	hdr := rtp.Header{Version: 2, PayloadType: 96, SSRC: 0x1234, Timestamp: 90000}
	payload := make([]byte, floorPayload)
	plain := make([]byte, 0, 1500)
	out := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(floorPayload)
	for b.Loop() {
		hdr.SequenceNumber++
		n, err := hdr.MarshalTo(plain[:cap(plain)])
		if err != nil {
			b.Fatal(err)
		}
		plain = append(plain[:n], payload...)
		enc, err := ctx.EncryptRTP(out, plain, &hdr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.WriteToUDPAddrPort(enc, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorEncrypt is the SRTP part of the floor alone.
func BenchmarkFloorEncrypt(b *testing.B) {
	ctx := srtpContext(b)
	hdr := rtp.Header{Version: 2, PayloadType: 96, SSRC: 0x1234}
	pkt, err := (&rtp.Packet{Header: hdr, Payload: make([]byte, floorPayload)}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(floorPayload)
	for b.Loop() {
		hdr.SequenceNumber++
		pkt[2], pkt[3] = byte(hdr.SequenceNumber>>8), byte(hdr.SequenceNumber)
		if _, err := ctx.EncryptRTP(out, pkt, &hdr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorSend is the UDP part of the floor alone.
func BenchmarkFloorSend(b *testing.B) {
	benchmarkSend(b, netip.MustParseAddr("127.0.0.1"))
}

// BenchmarkFloorSendInterface is BenchmarkFloorSend to this machine's first IPv4 interface
// address instead of 127.0.0.1: the path media takes between a server and a client on the
// same machine when loopback candidates are not offered. It shows why make bench's load runs
// over 127.0.0.1 (the floor's path): the kernel's work per datagram differs between the two.
func BenchmarkFloorSendInterface(b *testing.B) {
	ip, ok := interfaceIPv4()
	if !ok {
		b.Skip("this machine has no IPv4 address besides loopback")
	}
	benchmarkSend(b, ip)
}

// benchmarkSend sends an SRTP-sized datagram from ip to a drained socket on ip.
func benchmarkSend(b *testing.B, ip netip.Addr) {
	dst := udpSinkAt(b, ip)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip.AsSlice()})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	datagram := make([]byte, 12+floorPayload+16)
	b.ReportAllocs()
	b.SetBytes(int64(len(datagram)))
	for b.Loop() {
		if _, err := conn.WriteToUDPAddrPort(datagram, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func interfaceIPv4() (netip.Addr, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() && !p.Addr().IsLinkLocalUnicast() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}
