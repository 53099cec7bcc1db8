// Precompiled header shared by every target that uses LibTorch (see CMakeLists.txt).
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
