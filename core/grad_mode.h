// Whether operations record autograd graphs on this thread (on by default). The RAII guards
// users normally reach for (NoGradGuard, EnableGradGuard, GradModeGuard) are in autograd/autograd.h.
#pragma once

namespace tinynn {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

}  // namespace tinynn
