// The whole public API of tinynn in one include.
#pragma once
#include "autograd/autograd.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "core/linear.h"
#include "core/ops.h"
#include "core/print.h"
#include "core/random.h"
#include "core/reduce.h"
#include "core/shape_ops.h"
#include "core/tensor.h"
#include "core/version.h"
