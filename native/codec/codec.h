// Deep Compression weight codec (docs/compression.md): the decoder of the per-tensor stream
// (sparse relative-index coding + codebook indices, both canonical-Huffman coded), and 1-D
// k-means used for weight sharing. Everything here is plain C++ (no N-API) and throws
// CodecError on bad input; it never reads or writes outside the buffers it is given.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tfjq {
namespace codec {

class CodecError : public std::runtime_error {
 public:
  explicit CodecError(const std::string& msg) : std::runtime_error(msg) {}
};

// Format constants (docs/compression.md §2).
constexpr uint8_t kMagic[4] = {'T', 'Q', 'D', 'C'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagCodebookF16 = 1;
constexpr int kMaxRank = 8;
constexpr int kMaxIndexBits = 16;
constexpr int kMaxCodeLength = 24;
constexpr uint32_t kMaxCodebook = 65535;
constexpr uint64_t kMaxElements = (1ull << 31) - 1;

struct DecodedTensor {
  std::vector<uint32_t> shape;
  std::vector<float> values;  // row-major, size = product of shape
  int index_bits = 0;         // 0 = dense (no index stream)
  uint64_t entries = 0;       // entries stored (nonzeros + filler zeros; every element when dense)
  uint32_t codebook_size = 0;
  bool codebook_f16 = false;
};

// Decodes one stream. Throws CodecError naming what is wrong (bad magic, checksum mismatch,
// truncated section, Huffman table that does not decode, index past the tensor, ...).
DecodedTensor DecodeTensor(const uint8_t* data, size_t length);

// CRC-32 (IEEE 802.3 polynomial, as zlib's crc32()).
uint32_t Crc32(const uint8_t* data, size_t length);

// float16 (IEEE binary16) to float32, exact.
float HalfToFloat(uint16_t h);

struct KMeansResult {
  std::vector<double> centroids;  // ascending
  std::vector<uint16_t> labels;   // per input value: index into centroids
  int iterations = 0;
  double inertia = 0;  // sum of squared distances to the assigned centroid
};

// Lloyd's k-means in one dimension, starting from `init` (k centroids, any order; sorted
// first). Each value goes to its nearest centroid, ties to the lower one; an empty cluster
// keeps its centroid. Runs on sorted values with prefix sums: O(n log n + iterations · k log n).
// Stops when the partition no longer changes or after max_iter updates. Requires
// 1 <= k <= 65535, finite values and centroids.
KMeansResult KMeans1D(const float* values, size_t n, const double* init, size_t k, int max_iter);

}  // namespace codec
}  // namespace tfjq
