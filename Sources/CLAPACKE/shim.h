// LAPACKE. Swift cannot import C99 `_Complex` types, so LAPACKE is told to use its struct
// representation of complex numbers; the complex-typed functions then import like the others.
#define LAPACK_COMPLEX_STRUCTURE 1
#include <lapacke.h>
