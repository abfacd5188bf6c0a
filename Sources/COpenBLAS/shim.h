// CBLAS from OpenBLAS. Swift cannot import C99 `_Complex` types, so OpenBLAS is told to declare
// its complex types as plain structs; the complex-typed functions then import like the others.
#define FORCE_OPENBLAS_COMPLEX_STRUCT 1
#include <cblas.h>
