#include <cblas.h>
// OpenBLAS extensions (declared in Debian's cblas.h as well; repeated for other layouts).
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
