#ifndef CSOFTMAX_H
#define CSOFTMAX_H

#include <stddef.h>

/// y = softmax(x) over n floats, stable: subtracts max(x) before exponentiating.
void csoftmax(const float *x, float *y, size_t n);

#endif
