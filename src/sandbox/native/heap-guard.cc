// Heap guard: a native module isolated-vm loads into every tenant isolate (ivm.NativeModule), which caps how far V8 may raise the isolate's heap limit.
//
// isolated-vm answers V8's near-heap-limit callback by raising the limit by 1 GiB, so that it can
// terminate the isolate instead of letting V8 abort the process. Every allocation made before the
// termination lands is then backed by host memory: on Node 24 a loop of small arrays under
// memoryLimit 64 grew its worker past 3.7 GiB ("Script failed to terminate"), and two 512 MiB
// strings one after the other reached 1.1 GiB. V8 calls only the most recently added near-heap-limit
// callback (v8-isolate.h, AddNearHeapLimitCallback), so this one, added after isolated-vm's, replaces
// it for the isolate: the limit is raised once, to twice the initial limit (the 2x margin isolated-vm
// documents for memoryLimit), and a full collection is requested as an interrupt, which lets
// isolated-vm's own GC epilogue see the overrun and terminate the isolate (the `memory` outcome).
// Past twice the limit V8 reports an out-of-memory error, which isolated-vm hands to the worker as a
// catastrophic error: the worker answers 503 `memory` and is retired without harming neighbours
// (src/api/supervisor/slot-keeper.ts). The initial limit comes back once the heap falls below half
// of it. The module exports nothing into the isolate.

#include <v8.h>

namespace {

/** Runs on the isolate's thread at its next interrupt check: a full collection, under which isolated-vm compares the heap with memoryLimit. */
void CollectAll(v8::Isolate* isolate, void* /*data*/) {
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
}

/** Headroom past twice the initial limit, bytes: room for isolated-vm to terminate the isolate when one growth step (an array's backing store doubling) is as large as the heap itself. */
constexpr size_t kFloor = size_t{32} << 20;

/** V8's near-heap-limit callback: at most twice the initial limit plus kFloor, bytes. */
size_t NearHeapLimit(void* data, size_t current_heap_limit, size_t initial_heap_limit) {
  auto* isolate = static_cast<v8::Isolate*>(data);
  isolate->RequestInterrupt(CollectAll, nullptr);
  const size_t ceiling = initial_heap_limit * 2 + kFloor;
  return current_heap_limit < ceiling ? ceiling : current_heap_limit;
}

}  // namespace

/** isolated-vm's entry point for a native module (native_module_handle.cc looks it up by name), called on the isolate's thread. */
extern "C" __attribute__((visibility("default"))) void InitForContext(v8::Isolate* isolate, v8::Local<v8::Context> /*context*/, v8::Local<v8::Object> /*exports*/) {
  isolate->AddNearHeapLimitCallback(NearHeapLimit, isolate);
  isolate->AutomaticallyRestoreInitialHeapLimit(0.5);
}
