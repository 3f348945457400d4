/*
 * effc_hls_dataflow.h - how the generated top function runs its processes:
 * EFFC_HLS_RUN(index, call) for each process in dataflow order, then
 * EFFC_HLS_JOIN(). Under Vitis HLS each is the plain call of a DATAFLOW
 * region; in C simulation see effc_hls_stream.h for the three modes
 * (sequential, EFFC_HLS_COUNT, EFFC_HLS_THREADED).
 */
#ifndef EFFC_HLS_DATAFLOW_H
#define EFFC_HLS_DATAFLOW_H

#include "effc_hls_stream.h"

#if defined(__SYNTHESIS__) || defined(EFFC_HLS_VITIS)
#define EFFC_HLS_RUN(index, call) call
#define EFFC_HLS_JOIN() ((void)0)

#elif defined(EFFC_HLS_THREADED)
#include <functional>
#include <thread>
#include <vector>

namespace effc_hls {

inline std::vector<std::function<void()> > &process_bodies()
{
    static std::vector<std::function<void()> > bodies;
    return bodies;
}

/* Every process of the top function starts at once, each in its own thread. */
inline void run_all()
{
    std::vector<std::function<void()> > bodies;
    bodies.swap(process_bodies());
    {
        std::lock_guard<std::mutex> held(sched().lock);
        sched().running = (int)bodies.size();
        sched().blocked = 0;
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < bodies.size(); i++) {
        threads.push_back(std::thread([&bodies, i]() {
            bodies[i]();
            process_ended();
        }));
    }
    for (std::size_t i = 0; i < threads.size(); i++) {
        threads[i].join();
    }
}

}  // namespace effc_hls

#define EFFC_HLS_RUN(index, call) effc_hls::process_bodies().push_back([&]() { call; })
#define EFFC_HLS_JOIN() effc_hls::run_all()

#elif defined(EFFC_HLS_COUNT)
#include <vector>

namespace effc_hls {

/* Cycles of each process (by its index in the top function), summed over inferences. */
inline std::vector<unsigned long long> &cycle_counts()
{
    static std::vector<unsigned long long> counts;
    return counts;
}

inline unsigned long long *process_counter(std::size_t index)
{
    if (cycle_counts().size() <= index) {
        cycle_counts().resize(index + 1, 0);
    }
    return &cycle_counts()[index];
}

}  // namespace effc_hls

#define EFFC_HLS_RUN(index, call)                                              \
    do {                                                                       \
        effc_hls::tick_counter() = effc_hls::process_counter(index);           \
        call;                                                                  \
        effc_hls::tick_counter() = 0;                                          \
    } while (0)
#define EFFC_HLS_JOIN() ((void)0)

#else
#define EFFC_HLS_RUN(index, call) call
#define EFFC_HLS_JOIN() ((void)0)
#endif

#endif /* EFFC_HLS_DATAFLOW_H */
