// The training application in one include: the JSON config, building a run from it, the
// trainer, checkpoints (safetensors), prediction from a checkpoint, ONNX export, and weight spectra and compression.
#pragma once
#include "atomic_file.h"
#include "builders.h"
#include "checkpoint.h"
#include "config.h"
#include "dist.h"
#include "inference.h"
#include "onnx_export.h"
#include "safetensors.h"
#include "spectral.h"
#include "trainer.h"
