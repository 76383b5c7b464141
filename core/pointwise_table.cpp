// Names and traits of the pointwise catalogue rows, generated from the lists.
#include "pointwise_table.h"

namespace tinynn {

const char* unary_op_name(UnaryOp op) {
#define TINYNN_CASE(Name, name) case UnaryOp::Name: return #name;
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
  return "?";
}

const char* binary_op_name(BinaryOp op) {
#define TINYNN_CASE(Name, name) case BinaryOp::Name: return #name;
  switch (op) { TINYNN_BINARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
  return "?";
}

bool unary_op_floating_only(UnaryOp op) {
#define TINYNN_CASE(Name, name) case UnaryOp::Name: return pointwise::Name::floating_only;
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
  return true;
}

ActivationTraits unary_op_activation(UnaryOp op) {
#define TINYNN_CASE(Name, name) \
  case UnaryOp::Name: return {pointwise::Name::activation, pointwise::Name::param, pointwise::Name::param_default};
  switch (op) { TINYNN_UNARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
  return {};
}

bool binary_op_is_comparison(BinaryOp op) {
#define TINYNN_CASE(Name, name) case BinaryOp::Name: return pointwise::Name::comparison;
  switch (op) { TINYNN_BINARY_OPS(TINYNN_CASE) }
#undef TINYNN_CASE
  return false;
}

}  // namespace tinynn
