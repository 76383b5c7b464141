// The model library in one include: modules and layers, losses, penalties and clipping,
// initializers, optimizers and schedulers. Knows nothing of JSON, files or runs.
#pragma once
#include "init.h"
#include "conv_layers.h"
#include "layers.h"
#include "losses.h"
#include "module.h"
#include "normalization.h"
#include "optim.h"
#include "regularization.h"
#include "scheduler.h"
#include "sequential.h"
#include "train_step.h"
