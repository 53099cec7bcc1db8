#include <gtest/gtest.h>

#include "space/search_space.h"

TEST(Placeholder, Builds) { SUCCEED(); }
