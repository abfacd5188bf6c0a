// LAPACKE. Swift cannot import C99 `_Complex` types, so LAPACKE is told to use its struct
// representation of complex numbers (`_lapack_complex_float` / `_lapack_complex_double`, fields
// `real` and `imag`); the complex-typed functions then import like the others. lapack.h reads
// lapacke_config.h, where that choice is made, only when HAVE_LAPACK_CONFIG_H is defined.
#define HAVE_LAPACK_CONFIG_H 1
#define LAPACK_COMPLEX_STRUCTURE 1
#include <lapacke.h>
