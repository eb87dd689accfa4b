"""A small pure-Python Zstandard decoder (RFC 8878), for ZSTD-compressed journal data objects.

systemd ≥ 249 compresses journal fields larger than 512 bytes with ZSTD by default,
so the long ``Running kube-apiserver ...`` lines of k3s are usually compressed.
Decompression only; no dictionaries; checksums are not verified. Journal data
objects are small, so clarity wins over speed here. Any malformed input raises
:class:`ZstdError`.
"""

from __future__ import annotations

__all__ = ["ZstdError", "decompress"]

MAGIC = 0xFD2FB528


class ZstdError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- bit readers


class _Forward:
    """Little-endian bits, least significant first (FSE table descriptions)."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.bit = pos * 8

    def read(self, n: int) -> int:
        if n == 0:
            return 0
        start, end = self.bit, self.bit + n
        if (end + 7) // 8 > len(self.data):
            raise ZstdError("truncated table description")
        v = int.from_bytes(self.data[start // 8 : (end + 7) // 8], "little") >> (start % 8)
        self.bit = end
        return v & ((1 << n) - 1)

    def peek(self, n: int) -> int:
        start = self.bit
        chunk = self.data[start // 8 : (start + n + 7) // 8]
        return (int.from_bytes(chunk, "little") >> (start % 8)) & ((1 << n) - 1)

    def skip(self, n: int) -> None:
        self.bit += n

    def byte_pos(self) -> int:
        return (self.bit + 7) // 8


class _Backward:
    """A reversed bit stream: starts at the end, after the highest set bit of the last byte."""

    def __init__(self, data: bytes) -> None:
        if not data or data[-1] == 0:
            raise ZstdError("bad bitstream end marker")
        self.data = data
        self.pos = (len(data) - 1) * 8 + data[-1].bit_length() - 1  # bits left

    def read(self, n: int) -> int:
        if n == 0:
            return 0
        start = self.pos - n
        if start >= 0:
            v = int.from_bytes(self.data[start // 8 : (self.pos + 7) // 8], "little") >> (start % 8)
            v &= (1 << n) - 1
        else:
            avail = max(self.pos, 0)
            v = (int.from_bytes(self.data[: (avail + 7) // 8], "little") & ((1 << avail) - 1)) << (n - avail)
        self.pos = start
        return v

    def peek(self, n: int) -> int:
        p = self.pos
        v = self.read(n)
        self.pos = p
        return v


# ---------------------------------------------------------------------------------------------- FSE


def _read_ncount(r: _Forward, max_symbol: int, max_log: int) -> tuple[list[int], int]:
    log = r.read(4) + 5
    if log > max_log:
        raise ZstdError("FSE accuracy log too large")
    remaining = (1 << log) + 1
    threshold = 1 << log
    nbits = log + 1
    counts: list[int] = []
    while remaining > 1 and len(counts) <= max_symbol:
        maxv = (2 * threshold - 1) - remaining
        low = r.peek(nbits - 1) if nbits > 1 else 0
        if low < maxv:
            count = low
            r.skip(nbits - 1)
        else:
            count = r.peek(nbits)
            if count >= threshold:
                count -= maxv
            r.skip(nbits)
        count -= 1
        remaining -= abs(count)
        counts.append(count)
        if count == 0:
            while True:
                rep = r.read(2)
                counts.extend([0] * rep)
                if rep != 3:
                    break
        while remaining < threshold and threshold > 1:
            nbits -= 1
            threshold >>= 1
    if remaining != 1 or len(counts) > max_symbol + 1:
        raise ZstdError("bad FSE table description")
    return counts, log


def _fse_table(counts: list[int], log: int) -> list[tuple[int, int, int]]:
    """Decoding table: (symbol, number of bits, baseline) per state."""
    size = 1 << log
    symbols = [0] * size
    high = size - 1
    nxt = [0] * len(counts)
    for s, c in enumerate(counts):
        if c == -1:
            symbols[high] = s
            high -= 1
            nxt[s] = 1
        else:
            nxt[s] = c
    step = (size >> 1) + (size >> 3) + 3
    mask = size - 1
    pos = 0
    for s, c in enumerate(counts):
        for _ in range(max(c, 0)):
            symbols[pos] = s
            pos = (pos + step) & mask
            while pos > high:
                pos = (pos + step) & mask
    if pos != 0:
        raise ZstdError("bad FSE distribution")
    table = []
    for u in range(size):
        s = symbols[u]
        n = nxt[s]
        nxt[s] += 1
        nb = log - (n.bit_length() - 1)
        table.append((s, nb, (n << nb) - size))
    return table


def _rle_table(symbol: int) -> list[tuple[int, int, int]]:
    return [(symbol, 0, 0)]


LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
              -1, -1, -1, -1]
ML_DEFAULT = [1, 4, 3, 2, 2, 2, 2, 2, 2] + [1] * 37 + [-1] * 7
OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2] + [1] * 15 + [-1] * 5

LL_BASE = [*range(16), 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
                             16384, 32768, 65536]
LL_BITS = [0] * 16 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
ML_BASE = [n + 3 for n in range(32)] + [35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
                                         4099, 8195, 16387, 32771, 65539]
ML_BITS = [0] * 32 + [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]


# ---------------------------------------------------------------------------------------------- Huffman


def _huffman_weights(data: bytes, pos: int) -> tuple[list[int], int]:
    header = data[pos]
    pos += 1
    if header >= 128:
        n = header - 127
        nbytes = (n + 1) // 2
        raw = data[pos : pos + nbytes]
        if len(raw) < nbytes:
            raise ZstdError("truncated Huffman weights")
        weights = []
        for b in raw:
            weights += [b >> 4, b & 15]
        return weights[:n], pos + nbytes
    chunk = data[pos : pos + header]
    if len(chunk) < header:
        raise ZstdError("truncated Huffman weights")
    r = _Forward(chunk)
    counts, log = _read_ncount(r, 255, 6)
    table = _fse_table(counts, log)
    bits = _Backward(chunk[r.byte_pos() :])
    s1 = bits.read(log)
    s2 = bits.read(log)
    out: list[int] = []
    while len(out) < 255:
        sym, nb, base = table[s1]
        out.append(sym)
        s1 = base + bits.read(nb)
        if bits.pos < 0:
            out.append(table[s2][0])
            break
        sym, nb, base = table[s2]
        out.append(sym)
        s2 = base + bits.read(nb)
        if bits.pos < 0:
            out.append(table[s1][0])
            break
    return out, pos + header


def _huffman_table(weights: list[int]) -> tuple[list[tuple[int, int]], int]:
    total = sum(1 << (w - 1) for w in weights if w > 0)
    if total == 0:
        raise ZstdError("bad Huffman weights")
    max_bits = total.bit_length()
    rest = (1 << max_bits) - total
    if rest & (rest - 1):
        raise ZstdError("bad Huffman weights")
    weights = [*weights, rest.bit_length()]
    if max_bits > 11:
        raise ZstdError("Huffman table too deep")
    table: list[tuple[int, int]] = []
    for w in range(1, max_bits + 1):
        for s, sw in enumerate(weights):
            if sw == w:
                table.extend([(s, max_bits + 1 - w)] * (1 << (w - 1)))
    if len(table) != 1 << max_bits:
        raise ZstdError("bad Huffman weights")
    return table, max_bits


def _huffman_stream(data: bytes, table: list[tuple[int, int]], max_bits: int, n: int) -> bytes:
    bits = _Backward(data)
    out = bytearray()
    for _ in range(n):
        sym, nb = table[bits.peek(max_bits)]
        out.append(sym)
        bits.pos -= nb
    if bits.pos != 0:
        raise ZstdError("corrupt Huffman stream")
    return bytes(out)


# ---------------------------------------------------------------------------------------------- frames


class _State:
    def __init__(self) -> None:
        self.huffman: tuple[list[tuple[int, int]], int] | None = None
        self.tables: dict[str, list[tuple[int, int, int]] | None] = {"ll": None, "of": None, "ml": None}
        self.rep = [1, 4, 8]


def _literals(data: bytes, st: _State) -> tuple[bytes, int]:
    b0 = data[0]
    kind = b0 & 3
    fmt = (b0 >> 2) & 3
    if kind in (0, 1):
        if fmt in (0, 2):
            size, pos = b0 >> 3, 1
        elif fmt == 1:
            size, pos = (b0 >> 4) + (data[1] << 4), 2
        else:
            size, pos = (b0 >> 4) + (data[1] << 4) + (data[2] << 12), 3
        if kind == 0:
            lit = data[pos : pos + size]
            if len(lit) != size:
                raise ZstdError("truncated literals")
            return lit, pos + size
        return bytes([data[pos]]) * size, pos + 1
    if fmt == 0 or fmt == 1:
        v = int.from_bytes(data[0:3], "little")
        regen, comp, pos, streams = (v >> 4) & 0x3FF, (v >> 14) & 0x3FF, 3, 1 if fmt == 0 else 4
    elif fmt == 2:
        v = int.from_bytes(data[0:4], "little")
        regen, comp, pos, streams = (v >> 4) & 0x3FFF, (v >> 18) & 0x3FFF, 4, 4
    else:
        v = int.from_bytes(data[0:5], "little")
        regen, comp, pos, streams = (v >> 4) & 0x3FFFF, (v >> 22) & 0x3FFFF, 5, 4
    end = pos + comp
    if end > len(data):
        raise ZstdError("truncated literals")
    if kind == 2:
        weights, pos = _huffman_weights(data, pos)
        st.huffman = _huffman_table(weights)
    if st.huffman is None:
        raise ZstdError("treeless literals without a previous table")
    table, max_bits = st.huffman
    body = data[pos:end]
    if streams == 1:
        return _huffman_stream(body, table, max_bits, regen), end
    if len(body) < 6:
        raise ZstdError("truncated jump table")
    s1, s2, s3 = (int.from_bytes(body[i : i + 2], "little") for i in (0, 2, 4))
    each = (regen + 3) // 4
    sizes = [each, each, each, regen - 3 * each]
    if sizes[3] < 0:
        raise ZstdError("bad literal sizes")
    starts = [6, 6 + s1, 6 + s1 + s2, 6 + s1 + s2 + s3, len(body)]
    if starts[3] > len(body):
        raise ZstdError("bad jump table")
    out = b"".join(_huffman_stream(body[starts[i] : starts[i + 1]], table, max_bits, sizes[i]) for i in range(4))
    return out, end


def _seq_table(mode: int, data: bytes, pos: int, default: list[int], default_log: int, max_sym: int,
               max_log: int, prev: list[tuple[int, int, int]] | None) -> tuple[list[tuple[int, int, int]], int]:
    if mode == 0:
        return _fse_table(default, default_log), pos
    if mode == 1:
        if data[pos] > max_sym:
            raise ZstdError("bad RLE symbol")
        return _rle_table(data[pos]), pos + 1
    if mode == 2:
        r = _Forward(data, pos)
        counts, log = _read_ncount(r, max_sym, max_log)
        return _fse_table(counts, log), r.byte_pos()
    if prev is None:
        raise ZstdError("repeat table without a previous one")
    return prev, pos


def _log_of(table: list[tuple[int, int, int]]) -> int:
    return len(table).bit_length() - 1


def _block(data: bytes, st: _State, out: bytearray, limit: int) -> None:
    lits, pos = _literals(data, st)
    if pos >= len(data):
        raise ZstdError("truncated sequences")
    b0 = data[pos]
    if b0 == 0:
        out += lits
        return
    if b0 < 128:
        nseq, pos = b0, pos + 1
    elif b0 < 255:
        nseq, pos = ((b0 - 128) << 8) + data[pos + 1], pos + 2
    else:
        nseq, pos = data[pos + 1] + (data[pos + 2] << 8) + 0x7F00, pos + 3
    modes = data[pos]
    pos += 1
    ll, pos = _seq_table(modes >> 6, data, pos, LL_DEFAULT, 6, 35, 9, st.tables["ll"])
    of, pos = _seq_table((modes >> 4) & 3, data, pos, OF_DEFAULT, 5, 31, 8, st.tables["of"])
    ml, pos = _seq_table((modes >> 2) & 3, data, pos, ML_DEFAULT, 6, 52, 9, st.tables["ml"])
    st.tables = {"ll": ll, "of": of, "ml": ml}
    bits = _Backward(data[pos:])
    s_ll = bits.read(_log_of(ll))
    s_of = bits.read(_log_of(of))
    s_ml = bits.read(_log_of(ml))
    rep = st.rep
    lp = 0
    for i in range(nseq):
        of_code = of[s_of][0]
        ml_code = ml[s_ml][0]
        ll_code = ll[s_ll][0]
        if ll_code > 35 or ml_code > 52 or of_code > 31:
            raise ZstdError("bad sequence code")
        offset_value = (1 << of_code) + bits.read(of_code)
        mlen = ML_BASE[ml_code] + bits.read(ML_BITS[ml_code])
        llen = LL_BASE[ll_code] + bits.read(LL_BITS[ll_code])
        if offset_value > 3:
            offset = offset_value - 3
            rep = [offset, rep[0], rep[1]]
        else:
            idx = offset_value - 1 if llen else offset_value
            if idx == 0:
                offset = rep[0]
            elif idx == 1:
                offset = rep[1]
                rep = [rep[1], rep[0], rep[2]]
            elif idx == 2:
                offset = rep[2]
                rep = [rep[2], rep[0], rep[1]]
            else:
                offset = rep[0] - 1
                rep = [offset, rep[0], rep[1]]
        if i != nseq - 1:
            s_ll = ll[s_ll][2] + bits.read(ll[s_ll][1])
            s_ml = ml[s_ml][2] + bits.read(ml[s_ml][1])
            s_of = of[s_of][2] + bits.read(of[s_of][1])
        if lp + llen > len(lits):
            raise ZstdError("literal overrun")
        out += lits[lp : lp + llen]
        lp += llen
        if offset <= 0 or offset > len(out):
            raise ZstdError("bad match offset")
        start = len(out) - offset
        if offset >= mlen:
            out += out[start : start + mlen]
        else:
            for k in range(mlen):
                out.append(out[start + k])
        if len(out) > limit:
            raise ZstdError("output too large")
    if bits.pos != 0:
        raise ZstdError("corrupt sequence bitstream")
    st.rep = rep
    out += lits[lp:]


def decompress(data: bytes, limit: int = 64 * 1024 * 1024) -> bytes:
    """Decompress every frame in ``data`` (skippable frames are skipped)."""
    out = bytearray()
    pos = 0
    try:
        while pos < len(data):
            magic = int.from_bytes(data[pos : pos + 4], "little")
            if 0x184D2A50 <= magic <= 0x184D2A5F:
                size = int.from_bytes(data[pos + 4 : pos + 8], "little")
                pos += 8 + size
                continue
            if magic != MAGIC:
                raise ZstdError("not a zstd frame")
            fhd = data[pos + 4]
            pos += 5
            fcs_flag, single, checksum, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
            if fhd & 8:
                raise ZstdError("reserved bit set")
            if not single:
                pos += 1  # window descriptor
            dict_size = (0, 1, 2, 4)[dict_flag]
            if dict_size and int.from_bytes(data[pos : pos + dict_size], "little"):
                raise ZstdError("zstd dictionaries are not supported")
            pos += dict_size
            pos += (1 if single else 0, 2, 4, 8)[fcs_flag]
            st = _State()
            while True:
                if pos + 3 > len(data):
                    raise ZstdError("truncated block header")
                h = int.from_bytes(data[pos : pos + 3], "little")
                pos += 3
                last, btype, bsize = h & 1, (h >> 1) & 3, h >> 3
                if btype == 0:
                    chunk = data[pos : pos + bsize]
                    if len(chunk) != bsize:
                        raise ZstdError("truncated raw block")
                    out += chunk
                    pos += bsize
                elif btype == 1:
                    if pos >= len(data):
                        raise ZstdError("truncated RLE block")
                    out += bytes([data[pos]]) * bsize
                    pos += 1
                elif btype == 2:
                    chunk = data[pos : pos + bsize]
                    if len(chunk) != bsize:
                        raise ZstdError("truncated compressed block")
                    _block(chunk, st, out, limit)
                    pos += bsize
                else:
                    raise ZstdError("reserved block type")
                if len(out) > limit:
                    raise ZstdError("output too large")
                if last:
                    break
            if checksum:
                pos += 4
    except IndexError:
        raise ZstdError("truncated zstd data") from None
    return bytes(out)
