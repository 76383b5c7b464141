// The CPU thread count shared by tinynn's loops and oneDNN (one OpenMP pool).
#pragma once

namespace tinynn {

void set_num_threads(int threads);  // <= 0: every available core
int num_threads();
int available_cores();  // the cores this process may run on

}  // namespace tinynn
