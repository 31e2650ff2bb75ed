// Fuzz target for the Deep Compression stream decoder (native/codec/decode.cc): every input
// must decode or throw CodecError — never crash, hang, read out of bounds or allocate from
// an unchecked size field (ASan/UBSan catch those). Because the stream ends in a CRC-32 that
// random mutations almost never satisfy, inputs whose first byte is odd get their last four
// bytes rewritten to the CRC of the rest first, so the parser behind the checksum is fuzzed
// too. Built by bench/fuzz/run.sh either as a libFuzzer target (clang) or with the small
// standalone mutation driver in fuzz_driver.cc (any compiler).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "codec/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  if (size >= 5 && (data[0] & 1)) {
    const uint32_t crc = tfjq::codec::Crc32(buf.data(), size - 4);
    std::memcpy(buf.data() + size - 4, &crc, 4);
  }
  try {
    tfjq::codec::DecodedTensor t = tfjq::codec::DecodeTensor(buf.data(), buf.size());
    // A successful decode must be self-consistent.
    uint64_t n = 1;
    for (uint32_t d : t.shape) n *= d;
    if (n != t.values.size()) __builtin_trap();
  } catch (const tfjq::codec::CodecError&) {
    // a clear error: fine
  }
  return 0;
}
