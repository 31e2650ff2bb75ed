// The threads that run whole models for InferenceSession.run (the asynchronous form).
//
// Why not the libuv thread pool that other asynchronous calls use (Napi::AsyncWorker): a libuv
// worker sleeps on a condition variable between jobs, so every run began with the kernel
// waking a sleeping thread (whichever of libuv's four workers woke). A run-queue thread spins
// for a while after each job (the compute pool's budget, common/spin.h) and so takes the next
// request at once. Measured on a 2-vCPU VM with runs back to back, run() cost 46–85 µs more
// than the same run on the calling thread through libuv, 25–56 µs through the queue (what is
// left is waking the JS thread to settle the promise).
#pragma once
#include <functional>

namespace tfjq {

// Runs job on a run-queue thread, in submission order as threads come free (at most
// RunQueueThreads() jobs at once; more wait in the queue). job must not throw. The threads are
// started on first use and live as long as the process. spin_after: the thread spins for the
// next job once this one is done, which the caller asks for only when the job leaves a core
// free (a session using every core would otherwise keep the JS thread, which must settle the
// run and send the next, waiting for a core: 5–10% slower at 2 threads on 2 vCPUs).
void SubmitRun(std::function<void()> job, bool spin_after);

// Threads of the run queue: as many as cores this process may use, at least 2 (so that a
// long run does not hold up another session's short one on a 1-core machine), at most 8.
int RunQueueThreads();

}  // namespace tfjq
