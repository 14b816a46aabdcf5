// preprocess checks for the standalone kernel test (tests/cpp/preprocess_test.cpp).
#pragma once

#include "check.h"
#include "edgepack/cpu.h"

void preprocess_known_values(edgepack_test::Tally& t);
void preprocess_vs_ref(edgepack_test::Tally& t, edgepack::Isa isa);
