"""Reading a loopback capture (pcap from tcpdump) and sorting its UDP
datagrams the way the relay does (RFC 7983), to prove what was on the wire."""
import struct


def udp_datagrams(pcap_path):
    """Yields (src_port, dst_port, payload) for every IPv4/IPv6 UDP datagram."""
    with open(pcap_path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack_from("<I", data, 0)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        frame = data[offset:offset + caplen]
        offset += caplen
        if linktype == 1:  # Ethernet (what tcpdump gives on lo)
            if len(frame) < 14:
                continue
            ethertype = struct.unpack_from("!H", frame, 12)[0]
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked capture
            ethertype = struct.unpack_from("!H", frame, 14)[0]
            ip = frame[16:]
        else:
            raise ValueError(f"unexpected pcap link type {linktype}")
        if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
            udp = ip[(ip[0] & 0x0F) * 4:]
        elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
            udp = ip[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        src, dst = struct.unpack_from("!HH", udp, 0)
        yield src, dst, udp[8:]


def kind(payload):
    """RFC 7983 sorting, as media/packet_kind does."""
    if not payload:
        return "unknown"
    b = payload[0]
    if b <= 3:
        return "stun"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191 and len(payload) >= 2:
        return "rtcp" if 192 <= payload[1] <= 223 else "rtp"
    return "unknown"


def rtcp_is_plain(payload):
    """True when the RTCP length fields cover the datagram exactly: plain RTCP.
    SRTCP always carries 4 bytes of E|index and an authentication tag after
    the (encrypted) compound packet, so its lengths never add up."""
    offset = 0
    while offset + 4 <= len(payload):
        if payload[offset] >> 6 != 2:
            return False
        length = (struct.unpack_from("!H", payload, offset + 2)[0] + 1) * 4
        offset += length
    return offset == len(payload)


def dtls_handshake_types(payload):
    """The handshake message types in the first record of a DTLS datagram
    (1 = ClientHello, 2 = ServerHello), if it is an unencrypted handshake."""
    if len(payload) >= 26 and payload[0] == 22:
        return {payload[13]}
    return set()
