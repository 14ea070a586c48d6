#pragma once
/// PgCopyBuffer: rows in PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`),
/// so a batch reaches the server without any text formatting or parsing on either side.
/// Format (PostgreSQL docs, "COPY — Binary Format"): the 19-byte header (signature, flags,
/// extension length), then per row an int16 field count and per field an int32 length (-1 = NULL)
/// followed by the value in network byte order; the trailer is int16 -1.
/// Pure: builds bytes only; PgConnection::copy_in sends them.
#include <cstdint>
#include <string>
#include <string_view>

namespace ste {

class PgCopyBuffer {
 public:
  PgCopyBuffer();
  void begin_row(std::int16_t fields);
  void add_int64(std::int64_t v);     ///< bigint
  void add_float8(double v);          ///< double precision
  void add_text(std::string_view s);  ///< text (UTF-8, no terminator)
  /// timestamptz from microseconds since 1970-01-01 UTC (the wire value counts from 2000-01-01).
  void add_timestamptz_us(std::int64_t epoch_us);
  void add_null();
  /// Appends the trailer and returns the whole stream; the buffer is then reset for reuse.
  std::string finish();
  std::size_t rows() const { return rows_; }
  void reserve(std::size_t bytes) { data_.reserve(bytes); }

 private:
  void put16(std::uint16_t v);
  void put32(std::uint32_t v);
  void put64(std::uint64_t v);
  void start();
  std::string data_;
  std::size_t rows_ = 0;
};

/// Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch).
inline constexpr std::int64_t kPgEpochOffsetUs = 946684800LL * 1000000LL;

}  // namespace ste
