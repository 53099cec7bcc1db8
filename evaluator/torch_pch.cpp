// Anchor translation unit for the shared LibTorch precompiled header.
#include "evaluator/torch_pch.h"
