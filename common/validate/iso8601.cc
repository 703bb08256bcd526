// iso8601.cc — ISO 8601-1 calendar dates, times and date-times (SPEC §1).
//
// Accepted forms (extended, or basic in brackets):
//   date       YYYY-MM-DD                 [YYYYMMDD]
//   time       hh:mm[:ss][(.|,)f+][zone]  (time alone: extended form only)
//   date-time  date "T" time              (both halves in the same format)
//   zone       Z | ±hh:mm                 [Z | ±hhmm]
// Calendar checks are real (Gregorian leap years); hour 24 is rejected; a
// leap second is accepted only when the instant is 23:59:60 UTC, which needs
// a zone. Lower-case "t" and "z" are accepted as RFC 3339 allows.
#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

struct Time {
  int hour = 0, minute = 0, second = -1;  // second -1: not given
  bool has_zone = false;
  int offset_minutes = 0;
};

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

Reason ParseDate(std::string_view s, bool extended) {
  int y, m, d;
  if (extended) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return "date must be YYYY-MM-DD";
    y = text::DigitsValue(s.substr(0, 4));
    m = text::DigitsValue(s.substr(5, 2));
    d = text::DigitsValue(s.substr(8, 2));
  } else {
    if (s.size() != 8) return "date must be YYYYMMDD in basic format";
    y = text::DigitsValue(s.substr(0, 4));
    m = text::DigitsValue(s.substr(4, 2));
    d = text::DigitsValue(s.substr(6, 2));
  }
  if (y < 0 || m < 0 || d < 0) return "date fields must be digits";
  if (m < 1 || m > 12) return "month out of range";
  if (d < 1 || d > DaysIn(y, m)) return "day out of range for the month";
  return nullptr;
}

Reason ParseZone(std::string_view z, bool extended, Time* t) {
  if (z.empty()) return nullptr;
  t->has_zone = true;
  if (z == "Z" || z == "z") return nullptr;
  if (z[0] != '+' && z[0] != '-') return "unexpected characters after the time";
  int h, m;
  if (extended) {
    if (z.size() != 6 || z[3] != ':') return "zone offset must be ±hh:mm";
    h = text::DigitsValue(z.substr(1, 2));
    m = text::DigitsValue(z.substr(4, 2));
  } else {
    if (z.size() != 5) return "zone offset must be ±hhmm in basic format";
    h = text::DigitsValue(z.substr(1, 2));
    m = text::DigitsValue(z.substr(3, 2));
  }
  if (h < 0 || m < 0) return "zone offset must be digits";
  if (h > 23 || m > 59) return "zone offset out of range";
  t->offset_minutes = (z[0] == '-' ? -1 : 1) * (h * 60 + m);
  return nullptr;
}

Reason ParseTime(std::string_view s, bool extended, Time* t) {
  // Split off the zone: the first Z, +, or - after the clock.
  std::size_t zpos = s.find_first_of("Zz+-");
  std::string_view zone = zpos == std::string_view::npos ? std::string_view() : s.substr(zpos);
  std::string_view clock = s.substr(0, zpos);
  // Fraction on the last component.
  std::size_t fpos = clock.find_first_of(".,");
  std::string_view frac;
  if (fpos != std::string_view::npos) {
    frac = clock.substr(fpos + 1);
    clock = clock.substr(0, fpos);
    if (frac.empty()) return "empty fraction";
    for (unsigned char c : frac)
      if (!text::IsDigit(c)) return "fraction must be digits";
  }
  int fields[3] = {-1, -1, -1};
  int n = 0;
  if (extended) {
    if (clock.size() != 5 && clock.size() != 8) return "time must be hh:mm or hh:mm:ss";
    for (std::size_t i = 0; i < clock.size(); i += 3) {
      if (i > 0 && clock[i - 1] != ':') return "time must be hh:mm or hh:mm:ss";
      fields[n++] = text::DigitsValue(clock.substr(i, 2));
    }
  } else {
    if (clock.size() != 4 && clock.size() != 6) return "time must be hhmm or hhmmss in basic format";
    for (std::size_t i = 0; i < clock.size(); i += 2) fields[n++] = text::DigitsValue(clock.substr(i, 2));
  }
  for (int i = 0; i < n; ++i)
    if (fields[i] < 0) return "time fields must be digits";
  t->hour = fields[0];
  t->minute = fields[1];
  t->second = n == 3 ? fields[2] : -1;
  if (t->hour > 23) return "hour out of range";
  if (t->minute > 59) return "minute out of range";
  if (t->second > 60) return "second out of range";
  if (Reason r = ParseZone(zone, extended, t)) return r;
  if (t->second == 60) {
    if (!t->has_zone) return "leap second needs a zone to be checked";
    int utc = ((t->hour * 60 + t->minute - t->offset_minutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return "leap second is only valid at 23:59:60 UTC";
  }
  return nullptr;
}

}  // namespace

Reason CheckIso8601(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() > 64) return "longer than 64 characters";
  std::size_t tpos = s.find_first_of("Tt");
  if (tpos == std::string_view::npos) {
    if (s.size() >= 5 && s[2] == ':') {
      Time t;
      return ParseTime(s, true, &t);
    }
    bool extended = s.size() > 4 && s[4] == '-';
    return ParseDate(s, extended);
  }
  std::string_view date = s.substr(0, tpos);
  std::string_view time = s.substr(tpos + 1);
  bool extended = date.size() > 4 && date[4] == '-';
  if (Reason r = ParseDate(date, extended)) return r;
  bool time_extended = time.size() > 2 && time[2] == ':';
  if (time_extended != extended) return "basic and extended format mixed";
  Time t;
  return ParseTime(time, extended, &t);
}

}  // namespace vigil::core
