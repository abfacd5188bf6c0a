#include "csoftmax.h"
#include <math.h>

void csoftmax(const float *x, float *y, size_t n) {
    if (n == 0) return;
    float largest = x[0];
    for (size_t i = 1; i < n; i++) largest = x[i] > largest ? x[i] : largest;
    float sum = 0;
    for (size_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - largest);
        sum += y[i];
    }
    for (size_t i = 0; i < n; i++) y[i] /= sum;
}
