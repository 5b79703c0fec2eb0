// Teaches ThreadSanitizer the slow paths of Swift's `Synchronization.Mutex` on Linux.
// `scripts/test --sanitize thread` builds this into <scratch>/tsan-mutex-shim.so and preloads it
// (LD_PRELOAD) into `swift test` and the test process it starts.
//
// Why: `Mutex.withLock`'s fast paths are inlined into our code (an acquiring compare-exchange to
// lock, a releasing one to unlock), so TSan sees them. Under contention the lock is taken in
// `_MutexHandle._lockSlow` — a spin with compare-exchanges, then FUTEX_LOCK_PI, where the kernel
// hands the lock over — and released in `_unlockSlow` (FUTEX_UNLOCK_PI). Both live in
// libswiftSynchronization.so, which is not instrumented, so TSan never sees the hand-over and
// reports accesses to a contended Mutex's value as races with the previous holder's: 253 reports
// in the first full run of the in-process suites (PeerConnection's batch, ClusterTransport's and
// MembershipService's state, PendingCalls, CatalogFileStore, …, all inside `withLock`), 1 with
// this shim (the runtime one in tsan-suppressions.txt). A four-thread program that only appends
// to a `Mutex<[Int]>` reproduces it.
//
// How: these functions replace the three slow paths (the test process calls them through the
// PLT, so a preloaded definition wins), call the originals (dlsym RTLD_NEXT) and tell TSan what
// happened on the lock word's address — the address the inlined fast paths' atomics use, so
// both paths meet in one TSan sync object: acquire after the slow lock, release before the
// slow unlock. Accesses outside the lock are still reported (checked with that program plus an
// unprotected counter). In a process without TSan (swift-test itself, PostgreSQL, the shell)
// `__tsan_acquire`/`__tsan_release` are absent and the calls just forward.
//
// Swift's calling convention: `self` (the lock word, an address-only `Atomic<UInt32>`) arrives in
// the swiftself register, which clang spells `swift_context` under `swiftcall`. The symbols are
// the Swift 6 toolchain's (`nm -D libswiftSynchronization.so | grep _MutexHandle`); if a
// toolchain renames them, nothing is interposed and the false positives come back.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFTSELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

typedef SWIFTCALL void (*LockSlow)(uint32_t, void *SWIFTSELF);
typedef SWIFTCALL bool (*TryLockSlow)(void *SWIFTSELF);
typedef SWIFTCALL void (*UnlockSlow)(void *SWIFTSELF);
typedef void (*TSanSync)(void *);

static LockSlow realLockSlow;
static TryLockSlow realTryLockSlow;
static UnlockSlow realUnlockSlow;
static TSanSync tsanAcquire;
static TSanSync tsanRelease;

// Runs when a process loads, after its libraries (libswiftSynchronization.so among them); again
// on first use in a process that loaded that library later (dlopen).
__attribute__((constructor)) static void resolve(void) {
    realLockSlow = (LockSlow)dlsym(RTLD_NEXT, LOCK_SLOW);
    realTryLockSlow = (TryLockSlow)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    realUnlockSlow = (UnlockSlow)dlsym(RTLD_NEXT, UNLOCK_SLOW);
    tsanAcquire = (TSanSync)dlsym(RTLD_DEFAULT, "__tsan_acquire");
    tsanRelease = (TSanSync)dlsym(RTLD_DEFAULT, "__tsan_release");
}

SWIFTCALL void lockSlow(uint32_t selfID, void *SWIFTSELF word) __asm__(LOCK_SLOW);
SWIFTCALL void lockSlow(uint32_t selfID, void *SWIFTSELF word) {
    if (!realLockSlow) resolve();
    realLockSlow(selfID, word);
    if (tsanAcquire) tsanAcquire(word);
}

SWIFTCALL bool tryLockSlow(void *SWIFTSELF word) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool tryLockSlow(void *SWIFTSELF word) {
    if (!realTryLockSlow) resolve();
    bool locked = realTryLockSlow(word);
    if (locked && tsanAcquire) tsanAcquire(word);
    return locked;
}

SWIFTCALL void unlockSlow(void *SWIFTSELF word) __asm__(UNLOCK_SLOW);
SWIFTCALL void unlockSlow(void *SWIFTSELF word) {
    if (!realUnlockSlow) resolve();
    if (tsanRelease) tsanRelease(word);
    realUnlockSlow(word);
}
