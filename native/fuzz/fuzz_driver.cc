// A standalone mutation driver for fuzz targets when libFuzzer is not available (e.g. GCC):
//   fuzz_driver <seconds> <seed> <corpus files...>
// Repeatedly takes a corpus entry, applies 1–8 random mutations (bit flips, byte sets,
// interesting values, insert/delete/duplicate ranges, truncation), and calls
// LLVMFuzzerTestOneInput. Prints the number of inputs tried. Build it with
// -fsanitize=address,undefined so memory errors abort with a report.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <seconds> <seed> <corpus files...>\n", argv[0]);
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  std::vector<std::vector<uint8_t>> corpus;
  for (int i = 3; i < argc; i++) {
    std::ifstream f(argv[i], std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0xfe, 16, 24, 31, 32, 64};
  const auto start = std::chrono::steady_clock::now();
  uint64_t tried = 0;
  for (auto& c : corpus) {
    LLVMFuzzerTestOneInput(c.data(), c.size());
    tried++;
  }
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    std::vector<uint8_t> x = corpus[rng() % corpus.size()];
    const int muts = 1 + rng() % 8;
    for (int m = 0; m < muts; m++) {
      const size_t n = x.size();
      switch (rng() % 7) {
        case 0:
          if (n) x[rng() % n] ^= uint8_t(1u << (rng() % 8));
          break;
        case 1:
          if (n) x[rng() % n] = uint8_t(rng());
          break;
        case 2:
          if (n) x[rng() % n] = interesting[rng() % sizeof(interesting)];
          break;
        case 3:
          if (n) x.resize(rng() % n);
          break;
        case 4: {
          size_t p = n ? rng() % n : 0;
          x.insert(x.begin() + p, 1 + rng() % 16, uint8_t(rng()));
          break;
        }
        case 5:
          if (n > 1) {
            size_t p = rng() % n, l = 1 + rng() % (n - p);
            x.erase(x.begin() + p, x.begin() + p + std::min(l, n - p));
          }
          break;
        case 6:
          if (n) {
            size_t p = rng() % n, l = 1 + rng() % std::min<size_t>(64, n - p);
            std::vector<uint8_t> r(x.begin() + p, x.begin() + p + l);
            x.insert(x.begin() + rng() % n, r.begin(), r.end());
          }
          break;
      }
    }
    LLVMFuzzerTestOneInput(x.data(), x.size());
    tried++;
  }
  std::printf("%llu inputs tried, no crash\n", static_cast<unsigned long long>(tried));
  return 0;
}
