#include "common/pg_copy.hpp"

#include <bit>
#include <cstring>

namespace ste {

namespace {
constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes incl. the terminating NUL
}

PgCopyBuffer::PgCopyBuffer() { start(); }

void PgCopyBuffer::start() {
  data_.clear();
  rows_ = 0;
  data_.append(kSignature, sizeof(kSignature));  // the trailing '\0' is part of the signature
  put32(0);                                      // flags: no OIDs
  put32(0);                                      // header extension length
}

void PgCopyBuffer::put16(std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  data_.append(b, 2);
}

void PgCopyBuffer::put32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  data_.append(b, 4);
}

void PgCopyBuffer::put64(std::uint64_t v) {
  put32(static_cast<std::uint32_t>(v >> 32));
  put32(static_cast<std::uint32_t>(v));
}

void PgCopyBuffer::begin_row(std::int16_t fields) {
  put16(static_cast<std::uint16_t>(fields));
  ++rows_;
}

void PgCopyBuffer::add_int64(std::int64_t v) {
  put32(8);
  put64(static_cast<std::uint64_t>(v));
}

void PgCopyBuffer::add_float8(double v) {
  put32(8);
  put64(std::bit_cast<std::uint64_t>(v));
}

void PgCopyBuffer::add_text(std::string_view s) {
  put32(static_cast<std::uint32_t>(s.size()));
  data_.append(s);
}

void PgCopyBuffer::add_timestamptz_us(std::int64_t epoch_us) {
  put32(8);
  put64(static_cast<std::uint64_t>(epoch_us - kPgEpochOffsetUs));
}

void PgCopyBuffer::add_null() { put32(0xFFFFFFFFu); }

std::string PgCopyBuffer::finish() {
  put16(0xFFFFu);
  std::string out = std::move(data_);
  data_ = std::string{};
  data_.reserve(out.capacity());
  start();
  return out;
}

}  // namespace ste
