// The CPU thread count shared by tinynn's loops and oneDNN (one OpenMP pool).
#pragma once

namespace tinynn {

void set_num_threads(int threads);  // <= 0: every available core
int num_threads();
int available_cores();  // the cores this process may run on

// Subnormal floats flushed to zero (x86's FTZ and DAZ bits) on the calling thread and on every
// thread of the pool, or IEEE subnormals again (false: the default, as PyTorch's). Arithmetic on
// subnormals is dozens of times slower; a run whose weights stop changing fills its momentum with
// them. The trainer turns it on (training.flush_denormal). Returns false, changing nothing, on a
// CPU without the bits (like torch.set_flush_denormal).
bool set_flush_denormal(bool enabled);
bool flush_denormal();

}  // namespace tinynn
