// The training application's data in one include: in-memory datasets, the file formats (IDX,
// image folders, CSV), synthetic sets and the batch loader.
#pragma once
#include "augment.h"
#include "data_loader.h"
#include "dataset.h"
