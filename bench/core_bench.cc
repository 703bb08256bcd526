// core_bench.cc — validator throughput in the core, one thread.
//
// Anchor: a memchr for '@' over the same strings (the least any email check
// must do). Each vigil benchmark reports items/s; `--ratio` mode prints the
// ratio of vigil's time to the anchor's, measured in the same run.
//
//   build/bench/core_bench                      Google Benchmark table
//   build/bench/core_bench --dump-emails N      print the email mix (one per line)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emails.h"
#include "validate/validators.h"

namespace {

using vigil::bench::MakeEmails;

const std::vector<std::string>& Emails() {
  static const std::vector<std::string> emails = MakeEmails(1 << 16);
  return emails;
}

template <typename Fn>
void RunOver(benchmark::State& state, const std::vector<std::string>& values, Fn fn) {
  std::size_t i = 0, valid = 0;
  for (auto _ : state) {
    valid += fn(values[i]);
    if (++i == values.size()) i = 0;
  }
  benchmark::DoNotOptimize(valid);
  state.SetItemsProcessed(state.iterations());
}

void BM_Anchor_MemchrAt(benchmark::State& state) {
  RunOver(state, Emails(), [](const std::string& s) { return std::memchr(s.data(), '@', s.size()) != nullptr; });
}
BENCHMARK(BM_Anchor_MemchrAt);

void BM_IsEmail(benchmark::State& state) {
  RunOver(state, Emails(), [](const std::string& s) { return vigil::core::CheckEmail(s) == nullptr; });
}
BENCHMARK(BM_IsEmail);

std::vector<std::string> Repeat(std::initializer_list<const char*> values) {
  std::vector<std::string> out;
  for (int k = 0; k < 64; ++k)
    for (const char* v : values) out.emplace_back(v);
  return out;
}

void BM_IsUuid(benchmark::State& state) {
  static const auto values = Repeat({"0f8fad5b-d9cb-469f-a165-70867728950e", "017F22E2-79B0-7CC3-98C4-DC0C0C07398F",
                                     "not-a-uuid", "0f8fad5b-d9cb-469f-a165-70867728950g"});
  RunOver(state, values, [](const std::string& s) { return vigil::core::CheckUuid(s) == nullptr; });
}
BENCHMARK(BM_IsUuid);

void BM_IsIban(benchmark::State& state) {
  static const auto values = Repeat({"DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606",
                                     "DE89370400440532013001"});
  RunOver(state, values, [](const std::string& s) { return vigil::core::CheckIban(s) == nullptr; });
}
BENCHMARK(BM_IsIban);

void BM_IsBtcAddress(benchmark::State& state) {
  static const auto values = Repeat({"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
                                     "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                                     "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"});
  RunOver(state, values, [](const std::string& s) { return vigil::core::CheckBtcAddress(s) == nullptr; });
}
BENCHMARK(BM_IsBtcAddress);

void BM_IsEthAddress(benchmark::State& state) {
  static const auto values = Repeat({"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
                                     "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"});
  RunOver(state, values, [](const std::string& s) { return vigil::core::CheckEthAddress(s) == nullptr; });
}
BENCHMARK(BM_IsEthAddress);

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--dump-emails") == 0) {
    for (const std::string& e : MakeEmails(std::strtoull(argv[2], nullptr, 10))) std::printf("%s\n", e.c_str());
    return 0;
  }
  // Summary in the same run: is_email over the mix against the memchr
  // anchor, and the absolute rate against issue 2's target (5M/s, one core).
  {
    const auto& emails = Emails();
    auto time_it = [&](auto fn) {
      std::size_t valid = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (int round = 0; round < 80; ++round)
        for (const std::string& e : emails) valid += fn(e);
      benchmark::DoNotOptimize(valid);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    double anchor = time_it([](const std::string& s) { return std::memchr(s.data(), '@', s.size()) != nullptr; });
    double vigil = time_it([](const std::string& s) { return vigil::core::CheckEmail(s) == nullptr; });
    double rate = 80.0 * static_cast<double>(emails.size()) / vigil;
    std::printf("is_email: %.1f M checks/s on one core (target >= 5 M/s: %s); ratio to memchr anchor %.1f\n",
                rate / 1e6, rate >= 5e6 ? "met" : "NOT met", vigil / anchor);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
