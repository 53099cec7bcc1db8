// A cereal input archive for bytes this process did not just write (run files, model files, MPI
// messages): the portable binary format, read from memory, with every length bounded by the bytes
// left before anything is allocated.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>
#include <cereal/details/util.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

namespace paretonas {

/// Reads what cereal::PortableBinaryOutputArchive wrote (same bytes, same endianness flag).
/// NOTE: cereal's own PortableBinaryInputArchive resizes a string, vector or map to the length
/// the bytes announce before it reads the elements, so one damaged length asks the allocator for
/// up to 2^64 bytes. Here a length larger than the bytes left throws cereal::Exception at once
/// (each element of every type we serialise takes at least one byte), so memory stays within a
/// small multiple of the input size.
/// Not thread-safe; the buffer must outlive the archive.
class BoundedBinaryInputArchive
    : public cereal::InputArchive<BoundedBinaryInputArchive, cereal::AllowEmptyClassElision> {
 public:
  /// `base`: the offset of `data` in its file, so that messages give offsets in the file.
  BoundedBinaryInputArchive(const char* data, std::size_t size, std::size_t base = 0)
      : cereal::InputArchive<BoundedBinaryInputArchive, cereal::AllowEmptyClassElision>(this),
        data_(data),
        size_(size),
        base_(base) {
    std::uint8_t stream_little_endian = 1;
    (*this)(stream_little_endian);
    swap_ = IsLittleEndian() != (stream_little_endian != 0);
  }
  explicit BoundedBinaryInputArchive(const std::string& bytes, std::size_t base = 0)
      : BoundedBinaryInputArchive(bytes.data(), bytes.size(), base) {}

  /// Bytes not read yet.
  std::size_t remaining() const { return size_ - pos_; }
  /// The file offset of the next byte (base + bytes read so far).
  std::size_t offset() const { return base_ + pos_; }

  template <std::streamsize DataSize>
  void loadBinary(void* const data, std::streamsize size) {
    const auto n = static_cast<std::size_t>(size);
    if (size < 0 || n > remaining()) {
      throw cereal::Exception("needs " + std::to_string(size) + " bytes at offset " +
                              std::to_string(offset()) + ", only " + std::to_string(remaining()) +
                              " left (truncated)");
    }
    if (n > 0) std::memcpy(data, data_ + pos_, n);
    pos_ += n;
    if (swap_ && DataSize > 1) {
      auto* p = static_cast<std::uint8_t*>(data);
      for (std::size_t i = 0; i + DataSize <= n; i += DataSize)
        for (std::size_t a = 0, b = DataSize - 1; a < b; ++a, --b) std::swap(p[i + a], p[i + b]);
    }
  }

  /// Throws unless `count` elements can still follow (each takes at least one byte).
  void CheckLength(std::uint64_t count) const {
    if (count > remaining()) {
      throw cereal::Exception("a length of " + std::to_string(count) + " at offset " +
                              std::to_string(offset() - sizeof(std::uint64_t)) + " exceeds the " +
                              std::to_string(remaining()) + " bytes left (damaged length field)");
    }
  }

 private:
  static bool IsLittleEndian() {
    const std::uint16_t one = 1;
    std::uint8_t first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
  }

  const char* data_;
  std::size_t size_;
  std::size_t base_;
  std::size_t pos_ = 0;
  bool swap_ = false;
};

}  // namespace paretonas

namespace cereal {

template <class T>
inline typename std::enable_if<std::is_arithmetic<T>::value, void>::type CEREAL_LOAD_FUNCTION_NAME(
    paretonas::BoundedBinaryInputArchive& ar, T& t) {
  static_assert(!std::is_floating_point<T>::value || std::numeric_limits<T>::is_iec559,
                "portable binary needs IEEE 754 floating point");
  ar.template loadBinary<sizeof(T)>(std::addressof(t), sizeof(t));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(paretonas::BoundedBinaryInputArchive& ar,
                                      NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(paretonas::BoundedBinaryInputArchive& ar, SizeTag<T>& t) {
  ar(t.size);
  ar.CheckLength(static_cast<std::uint64_t>(t.size));
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(paretonas::BoundedBinaryInputArchive& ar,
                                      BinaryData<T>& bd) {
  using TT = typename std::remove_pointer<T>::type;
  ar.template loadBinary<sizeof(TT)>(bd.data, static_cast<std::streamsize>(bd.size));
}

}  // namespace cereal

CEREAL_REGISTER_ARCHIVE(paretonas::BoundedBinaryInputArchive)

// Pair it with the writer, so that types serialised through load_minimal (enums) can be read.
// NOTE: not CEREAL_SETUP_ARCHIVE_TRAITS, which would also re-pair the writer with this reader.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<paretonas::BoundedBinaryInputArchive> {
  using type = cereal::PortableBinaryOutputArchive;
};
}  // namespace cereal::traits::detail
