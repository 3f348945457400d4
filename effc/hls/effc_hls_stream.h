/*
 * effc_hls_stream.h - the stream, the packed beat, and how the processes of a
 * dataflow run in C simulation.
 *
 * Under Vitis HLS (csynth, and csim/cosim with -DEFFC_HLS_VITIS as run_hls.tcl
 * passes it) effc_hls::stream is hls::stream and EFFC_HLS_RUN(i, call) is the
 * call itself. Everywhere else stream is the small FIFO below, so the C
 * simulation compiles with plain g++ and no vendor header, in one of three modes:
 *
 *   default            the processes run one after the other, FIFOs are
 *                      unbounded (Vitis csim semantics); reading an empty
 *                      stream is a design error (in hardware it would
 *                      deadlock), reported with the stream's name, exit 3;
 *   EFFC_HLS_COUNT     the same, and every pipelined loop iteration adds its
 *                      initiation interval to its process's cycle count
 *                      (EFFC_HLS_TICK): the trip counts effc's estimator models;
 *   EFFC_HLS_THREADED  one thread per process and every internal FIFO holds at
 *                      most its STREAM depth (set_depth): a writer blocks on a
 *                      full FIFO as in hardware. When every running process
 *                      waits, the depths deadlock the design: reported with
 *                      the stream, exit 4. (Processes never test a stream for
 *                      emptiness, so whether the network deadlocks does not
 *                      depend on the thread schedule: Kahn process networks.)
 */
#ifndef EFFC_HLS_STREAM_H
#define EFFC_HLS_STREAM_H

#include <stdint.h>

namespace effc_hls {

/* One stream beat: N values side by side (one AXI-Stream word of N * sizeof(T) bytes). */
template <typename T, int N>
struct vec {
    T v[N];
};

}  // namespace effc_hls

#if defined(__SYNTHESIS__) || defined(EFFC_HLS_VITIS)
#include <hls_stream.h>

namespace effc_hls {
template <typename T>
using stream = hls::stream<T>;
}  // namespace effc_hls

#define EFFC_HLS_TICK(cycles) ((void)0)
#define EFFC_HLS_DEPTH(s, depth) ((void)0)

#else
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>

#ifdef EFFC_HLS_THREADED
#include <condition_variable>
#include <mutex>
#endif

namespace effc_hls {

inline void stream_failure(const char *what, const char *name, int code = 3)
{
    std::fprintf(stderr, "effc_hls: %s (stream '%s')\n", what, name);
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code); /* other processes may still run (EFFC_HLS_THREADED) */
}

#ifdef EFFC_HLS_THREADED
/* One lock for every stream. `running` counts the processes still running,
 * `blocked` those waiting on a stream that nobody has touched since. */
struct scheduler {
    std::mutex lock;
    int running;
    int blocked;
};

inline scheduler &sched()
{
    static scheduler s = {{}, 0, 0};
    return s;
}

/* Where one stream's reader or writer waits (a stream has one of each). */
struct waiting {
    std::condition_variable changed;
    long generation;
    int waiters;
    waiting() : generation(0), waiters(0) {}

    /* Called with the lock held after the stream changed: wake its waiter. */
    void touch()
    {
        generation++;
        if (waiters) {
            sched().blocked -= waiters;
            waiters = 0;
            changed.notify_all();
        }
    }

    template <typename Ready>
    void until(std::unique_lock<std::mutex> &held, Ready ready, const char *what,
               const char *name)
    {
        scheduler &s = sched();
        while (!ready()) {
            waiters++;
            if (++s.blocked >= s.running) {
                stream_failure(what, name, 4);
            }
            const long seen = generation;
            while (generation == seen) {
                changed.wait(held);
            }
        }
    }
};

/* A process ended: the waiting ones may now be all that is left. */
inline void process_ended()
{
    std::unique_lock<std::mutex> held(sched().lock);
    scheduler &s = sched();
    s.running--;
    if (s.running > 0 && s.blocked >= s.running) {
        stream_failure("deadlock: every process left waits on a FIFO", "after a process ended",
                       4);
    }
}
#endif

template <typename T>
class stream {
  public:
    stream() : name_("unnamed"), depth_(0) {}
    explicit stream(const char *name) : name_(name), depth_(0) {}

    /* The FIFO's capacity in beats under EFFC_HLS_THREADED (0: unbounded, a port). */
    void set_depth(std::size_t depth) { depth_ = depth; }

    void write(const T &value)
    {
#ifdef EFFC_HLS_THREADED
        std::unique_lock<std::mutex> held(sched().lock);
        wait_.until(held, [this]() { return depth_ == 0 || fifo_.size() < depth_; },
                    "deadlock: every process waits, this FIFO is full", name_);
        fifo_.push_back(value);
        wait_.touch();
#else
        fifo_.push_back(value);
#endif
    }

    T read()
    {
#ifdef EFFC_HLS_THREADED
        std::unique_lock<std::mutex> held(sched().lock);
        wait_.until(held, [this]() { return !fifo_.empty(); },
                    "deadlock: every process waits, this FIFO is empty", name_);
        T value = fifo_.front();
        fifo_.pop_front();
        wait_.touch();
        return value;
#else
        if (fifo_.empty()) {
            stream_failure("read from an empty stream: its producer wrote fewer beats", name_);
        }
        T value = fifo_.front();
        fifo_.pop_front();
        return value;
#endif
    }

    bool empty() const { return fifo_.empty(); }
    std::size_t size() const { return fifo_.size(); }
    const char *name() const { return name_; }

  private:
    stream(const stream &);
    stream &operator=(const stream &);

    const char *name_;
    std::size_t depth_;
    std::deque<T> fifo_;
#ifdef EFFC_HLS_THREADED
    waiting wait_;
#endif
};

/* After an inference every internal stream must be empty: a value left over
 * means a producer wrote more beats than its reader took (in hardware the next
 * inference would read it). The generated top function checks each one. */
template <typename T>
void check_drained(const stream<T> &s)
{
    if (!s.empty()) {
        stream_failure("values left over after the inference: its reader took fewer beats",
                       s.name());
    }
}

#ifdef EFFC_HLS_COUNT
/* The cycle count of the process running now (EFFC_HLS_RUN sets it). */
inline unsigned long long *&tick_counter()
{
    static unsigned long long *counter = 0;
    return counter;
}
#define EFFC_HLS_TICK(cycles)                                  \
    do {                                                       \
        if (effc_hls::tick_counter()) {                        \
            *effc_hls::tick_counter() += (unsigned)(cycles);   \
        }                                                      \
    } while (0)
#else
#define EFFC_HLS_TICK(cycles) ((void)0)
#endif

#define EFFC_HLS_DEPTH(s, depth) (s).set_depth(depth)

}  // namespace effc_hls
#endif

#endif /* EFFC_HLS_STREAM_H */
