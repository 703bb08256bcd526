// emails.h — a deterministic, realistic mix of email addresses for the
// benchmarks: mostly valid addresses of the shapes people type (first.last,
// initials with digits, plus tags, subdomains, country TLDs), and one in ten
// invalid in the ways real data is (missing @, double @, spaces, trailing
// dot, display names). The same generator feeds bench/email_filter.py through
// `core_bench --dump-emails`, so every engine sees the same data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::bench {

inline std::vector<std::string> MakeEmails(std::size_t n, std::uint64_t seed = 42) {
  static const char* kFirst[] = {"james", "mary", "wei", "fatima", "olga", "juan", "aiko", "liam", "noah", "emma",
                                 "sofia", "mateo", "chloe", "arjun", "zoe", "ivan", "lena", "omar", "mia", "leo"};
  static const char* kLast[] = {"smith", "garcia", "chen", "khan", "novak", "silva", "tanaka", "brown",
                                "muller", "rossi", "dubois", "kowalski", "nguyen", "patel", "jensen", "costa"};
  static const char* kDomain[] = {"gmail.com", "yahoo.com", "outlook.com", "example.com", "proton.me",
                                  "mail.example.co.uk", "trading-desk.io", "fund.example.de", "icloud.com",
                                  "corp.example.com.br", "exchange.example.org", "web.de", "qq.com"};
  std::uint64_t x = seed;
  auto next = [&x]() {  // splitmix64
    x += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string first = kFirst[next() % 20], last = kLast[next() % 16], domain = kDomain[next() % 13];
    std::string local;
    switch (next() % 5) {
      case 0: local = first + "." + last; break;
      case 1: local = first.substr(0, 1) + last + std::to_string(next() % 100); break;
      case 2: local = first + "+trading" ; break;
      case 3: local = first + "_" + last + std::to_string(next() % 10000); break;
      default: local = last + "." + first.substr(0, 1); break;
    }
    std::string email = local + "@" + domain;
    if (next() % 10 == 0) {
      switch (next() % 6) {
        case 0: email = local + domain; break;
        case 1: email = local + "@@" + domain; break;
        case 2: email = first + " " + last + "@" + domain; break;
        case 3: email = email + "."; break;
        case 4: email = "\"" + first + "\" <" + email + ">"; break;
        default: email = local + "@" + domain.substr(0, domain.find('.')); break;
      }
    }
    out.push_back(std::move(email));
  }
  return out;
}

}  // namespace vigil::bench
