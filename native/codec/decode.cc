// Decoder of the Deep Compression tensor stream; docs/compression.md is the specification.
// Every length read from the stream is checked against the real number of bytes before it
// is used, so a corrupted or truncated stream ends in a CodecError, never in an
// out-of-bounds access, a huge allocation or a loop that does not end.
#include <array>
#include <cmath>
#include <cstring>

#include "codec/codec.h"

namespace tfjq {
namespace codec {

namespace {

[[noreturn]] void Fail(const std::string& msg) { throw CodecError(msg); }

// Byte cursor over [data, data + length).
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t length) : data_(data), length_(length) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return length_ - pos_; }
  uint8_t U8(const char* what) {
    if (pos_ >= length_) Fail(std::string("stream truncated while reading ") + what);
    return data_[pos_++];
  }
  // Unsigned LEB128, at most 5 bytes, value < 2^32.
  uint32_t Varint(const char* what) {
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b = U8(what);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        if (v > 0xffffffffull) Fail(std::string(what) + " does not fit in 32 bits");
        return static_cast<uint32_t>(v);
      }
    }
    Fail(std::string(what) + " is not a valid varint (more than 5 bytes)");
  }
  const uint8_t* Take(size_t n, const char* what) {
    if (n > remaining()) {
      Fail(std::string("stream truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(remaining()) + " left");
    }
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }

 private:
  const uint8_t* data_;
  size_t length_;
  size_t pos_ = 0;
};

// MSB-first bit cursor over one section.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t bytes, const char* section)
      : data_(data), bits_(bytes * 8), section_(section) {}
  uint32_t Bit() {
    if (pos_ >= bits_) Fail(std::string(section_) + " truncated (ran out of bits)");
    uint32_t b = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u;
    ++pos_;
    return b;
  }
  uint32_t Bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | Bit();
    return v;
  }
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bits_; }
  // The section must end within the last byte, padded with zero bits.
  void ExpectEnd() {
    if (bits_ - pos_ >= 8) {
      Fail(std::string(section_) + " has " + std::to_string((bits_ - pos_) / 8) + " unused trailing bytes");
    }
    while (pos_ < bits_) {
      if (Bit()) Fail(std::string(section_) + " has non-zero padding bits");
    }
  }

 private:
  const uint8_t* data_;
  uint64_t bits_;
  uint64_t pos_ = 0;
  const char* section_;
};

// Canonical Huffman code: counts per length and symbols sorted by (length, symbol).
struct Huffman {
  int max_len = 0;
  std::array<uint32_t, kMaxCodeLength + 1> count{};
  std::vector<uint32_t> symbols;
  const char* name = "";

  bool empty() const { return symbols.empty(); }

  // puff.c-style canonical decode: at most max_len bit reads, fails on a code that is not in
  // the table (incomplete codes).
  uint32_t Decode(BitReader& in) const {
    int32_t code = 0, first = 0, index = 0;
    for (int len = 1; len <= max_len; ++len) {
      code |= static_cast<int32_t>(in.Bit());
      int32_t c = static_cast<int32_t>(count[len]);
      if (code - c < first) return symbols[static_cast<size_t>(index + (code - first))];
      index += c;
      first += c;
      first <<= 1;
      code <<= 1;
    }
    Fail(std::string(name) + ": bit pattern is not a code of the Huffman table");
  }
};

// Table encoding (docs/compression.md §4): n-1 (16 bits), max length (5 bits), then the code
// length of each symbol 0..n-1 as a delta from the previous one:
// '0' same, '10' +1, '110' -1, '111' + raw length in bitlength(max_len) bits.
Huffman ReadTable(BitReader& in, uint32_t alphabet_limit, const char* name) {
  Huffman h;
  h.name = name;
  uint32_t n = in.Bits(16) + 1;
  int max_len = static_cast<int>(in.Bits(5));
  if (max_len > kMaxCodeLength) {
    Fail(std::string(name) + ": code length limit " + std::to_string(max_len) + " exceeds " +
         std::to_string(kMaxCodeLength));
  }
  h.max_len = max_len;
  if (max_len == 0) return h;  // empty table (valid only when there are no entries)
  if (n > alphabet_limit) {
    Fail(std::string(name) + ": " + std::to_string(n) + " symbols, but the alphabet has only " +
         std::to_string(alphabet_limit));
  }
  int len_bits = 0;
  while ((1 << len_bits) <= max_len) ++len_bits;
  std::vector<uint8_t> lengths(n);
  int prev = 0;
  for (uint32_t s = 0; s < n; ++s) {
    int len;
    if (!in.Bit()) {
      len = prev;
    } else if (!in.Bit()) {
      len = prev + 1;
    } else if (!in.Bit()) {
      len = prev - 1;
    } else {
      len = static_cast<int>(in.Bits(len_bits));
    }
    if (len < 0 || len > max_len) {
      Fail(std::string(name) + ": code length " + std::to_string(len) + " of symbol " + std::to_string(s) +
           " is outside [0, " + std::to_string(max_len) + "]");
    }
    lengths[s] = static_cast<uint8_t>(len);
    prev = len;
    if (len) ++h.count[len];
  }
  // Kraft inequality: an over-subscribed table has no prefix code.
  int64_t left = 1;
  for (int len = 1; len <= max_len; ++len) {
    left <<= 1;
    left -= h.count[len];
    if (left < 0) Fail(std::string(name) + " is over-subscribed (its code lengths violate the Kraft inequality)");
  }
  std::array<uint32_t, kMaxCodeLength + 2> offs{};
  for (int len = 1; len <= max_len; ++len) offs[len + 1] = offs[len] + h.count[len];
  h.symbols.resize(offs[max_len + 1]);
  for (uint32_t s = 0; s < n; ++s) {
    if (lengths[s]) h.symbols[offs[lengths[s]]++] = s;
  }
  return h;
}

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t length) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < length; ++i) c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

DecodedTensor DecodeTensor(const uint8_t* data, size_t length) {
  if (data == nullptr && length > 0) Fail("stream has no data");
  if (length < 12)
    Fail("stream truncated: " + std::to_string(length) + " bytes is shorter than the smallest stream (12)");
  if (std::memcmp(data, kMagic, 4) != 0) Fail("not a tfjs-quant compressed tensor (bad magic)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data + length - 4, 4);  // little-endian hosts only (x86-64, arm64)
  uint32_t crc = Crc32(data, length - 4);
  if (crc != stored_crc) Fail("checksum mismatch: the stream is corrupted or truncated");

  ByteReader r(data, length - 4);
  r.Take(4, "magic");
  uint8_t version = r.U8("version");
  if (version != kVersion) Fail("unsupported stream version " + std::to_string(version));
  uint8_t flags = r.U8("flags");
  if (flags & ~kFlagCodebookF16) Fail("unknown flags 0x" + std::to_string(flags));
  uint8_t rank = r.U8("rank");
  if (rank > kMaxRank) Fail("rank " + std::to_string(rank) + " exceeds " + std::to_string(kMaxRank));
  uint8_t w = r.U8("index width");
  if (w > kMaxIndexBits) Fail("index width " + std::to_string(w) + " exceeds " + std::to_string(kMaxIndexBits));

  DecodedTensor out;
  out.index_bits = w;
  out.codebook_f16 = (flags & kFlagCodebookF16) != 0;
  uint64_t size = 1;
  for (int i = 0; i < rank; ++i) {
    uint32_t d = r.Varint("dimension");
    size *= d;
    if (size > kMaxElements) Fail("tensor has more than 2^31-1 elements");
    out.shape.push_back(d);
  }
  uint32_t entries = r.Varint("entry count");
  uint32_t k = r.Varint("codebook size");
  if (k > kMaxCodebook) Fail("codebook size " + std::to_string(k) + " exceeds " + std::to_string(kMaxCodebook));
  size_t cb_bytes = static_cast<size_t>(k) * (out.codebook_f16 ? 2 : 4);
  const uint8_t* cb = r.Take(cb_bytes, "codebook");
  std::vector<float> codebook(static_cast<size_t>(k) + 1, 0.0f);  // symbol 0 is zero
  for (uint32_t i = 0; i < k; ++i) {
    float v;
    if (out.codebook_f16) {
      uint16_t h;
      std::memcpy(&h, cb + 2 * i, 2);
      v = HalfToFloat(h);
    } else {
      std::memcpy(&v, cb + 4 * i, 4);
    }
    if (!std::isfinite(v)) Fail("codebook entry " + std::to_string(i) + " is not finite");
    codebook[i + 1] = v;
  }
  out.codebook_size = k;
  uint32_t table_bytes = r.Varint("table section length");
  uint32_t value_bytes = r.Varint("value section length");
  uint32_t index_bytes = r.Varint("index section length");
  const uint8_t* tables = r.Take(table_bytes, "Huffman tables");
  const uint8_t* values = r.Take(value_bytes, "value stream");
  const uint8_t* index = r.Take(index_bytes, "index stream");
  if (r.remaining() != 0) Fail("stream has " + std::to_string(r.remaining()) + " unexpected trailing bytes");

  // Sizes are capped by the real stream before anything is allocated: every entry costs at
  // least one bit of the value stream (and of the index stream when sparse).
  if (entries > size)
    Fail("entry count " + std::to_string(entries) + " exceeds the tensor size " + std::to_string(size));
  if (static_cast<uint64_t>(entries) > static_cast<uint64_t>(value_bytes) * 8) {
    Fail("entry count " + std::to_string(entries) + " exceeds what the value stream can hold");
  }
  if (w == 0) {
    if (entries != size)
      Fail("dense stream must store every element (" + std::to_string(entries) + " != " + std::to_string(size) + ")");
    if (index_bytes != 0) Fail("dense stream has a non-empty index section");
  } else {
    if (static_cast<uint64_t>(entries) > static_cast<uint64_t>(index_bytes) * 8) {
      Fail("entry count " + std::to_string(entries) + " exceeds what the index stream can hold");
    }
    if (size > (static_cast<uint64_t>(entries) + 1) << w) {
      Fail("tensor size " + std::to_string(size) + " is not covered by " + std::to_string(entries) +
           " entries of index width " + std::to_string(w));
    }
  }

  BitReader tin(tables, table_bytes, "Huffman table section");
  Huffman vt = ReadTable(tin, k + 1, "value Huffman table");
  Huffman it;
  if (w > 0) it = ReadTable(tin, 1u << w, "index Huffman table");
  tin.ExpectEnd();
  if (entries > 0 && vt.empty()) Fail("value Huffman table is empty but the stream has entries");
  if (entries > 0 && w > 0 && it.empty()) Fail("index Huffman table is empty but the stream has entries");

  out.values.assign(static_cast<size_t>(size), 0.0f);
  out.entries = entries;
  BitReader vin(values, value_bytes, "value stream");
  BitReader iin(index, index_bytes, "index stream");
  int64_t last = -1;
  for (uint32_t e = 0; e < entries; ++e) {
    int64_t pos;
    if (w == 0) {
      pos = e;
    } else {
      pos = last + 1 + static_cast<int64_t>(it.Decode(iin));
      if (static_cast<uint64_t>(pos) >= size) {
        Fail("index runs past the tensor: entry " + std::to_string(e) + " at position " + std::to_string(pos) + " of " +
             std::to_string(size));
      }
    }
    uint32_t sym = vt.Decode(vin);  // < k + 1 by the table's alphabet check
    out.values[static_cast<size_t>(pos)] = codebook[sym];
    last = pos;
  }
  if (w > 0 && static_cast<int64_t>(size) - 1 - last >= (int64_t{1} << w)) {
    Fail("trailing gap of " + std::to_string(static_cast<int64_t>(size) - 1 - last) +
         " zeros exceeds the index width (filler entries missing)");
  }
  vin.ExpectEnd();
  if (w > 0) iin.ExpectEnd();
  return out;
}

}  // namespace codec
}  // namespace tfjq
