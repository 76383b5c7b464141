// Protocol Buffers' wire format, write side only: what the ONNX exporter needs to write a
// ModelProto without libprotobuf or a generated copy of onnx.proto. A message is its fields'
// bytes in order; a nested message is a length-delimited field holding another message's bytes.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tinynn::nn::detail {

class ProtoWriter {
 public:
  // Wire types: 0 varint (int32/int64/enum), 2 length-delimited (string, bytes, message, packed
  // scalars), 5 fixed 32-bit (float).
  void varint(int field, std::int64_t value) {
    tag(field, 0);
    put_varint(static_cast<std::uint64_t>(value));  // negatives take ten bytes, as protobuf writes int64
  }
  void float32(int field, float value) {
    tag(field, 5);
    char b[4];
    std::memcpy(b, &value, 4);  // little-endian, like every host tinynn builds for
    bytes_.append(b, 4);
  }
  void bytes(int field, std::string_view value) {
    tag(field, 2);
    put_varint(value.size());
    bytes_.append(value);
  }
  void message(int field, const ProtoWriter& m) { bytes(field, m.bytes_); }
  void packed_varints(int field, const std::vector<std::int64_t>& values) {
    ProtoWriter body;
    for (const std::int64_t v : values) body.put_varint(static_cast<std::uint64_t>(v));
    bytes(field, body.bytes_);
  }
  void packed_floats(int field, const std::vector<float>& values) {
    bytes(field, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  }
  const std::string& data() const { return bytes_; }

 private:
  void tag(int field, int wire_type) { put_varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type)); }
  void put_varint(std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) bytes_ += static_cast<char>((v & 0x7f) | 0x80);
    bytes_ += static_cast<char>(v);
  }
  std::string bytes_;
};

}  // namespace tinynn::nn::detail
