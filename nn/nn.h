// Everything for training in one include: modules, layers, losses, regularization, optimizers,
// schedulers, initializers and checkpoints.
#pragma once
#include "builders.h"
#include "checkpoint.h"
#include "config.h"
#include "data_loader.h"
#include "dataset.h"
#include "init.h"
#include "layers.h"
#include "losses.h"
#include "module.h"
#include "normalization.h"
#include "optim.h"
#include "regularization.h"
#include "safetensors.h"
#include "scheduler.h"
#include "sequential.h"
#include "trainer.h"
