/*
 * effc_hls_stream.h - the stream and the packed beat every effc HLS layer uses.
 *
 * Under Vitis HLS (csynth, and csim/cosim with -DEFFC_HLS_VITIS as run_hls.tcl
 * passes it) effc_hls::stream is hls::stream. Everywhere else it is the small
 * FIFO below, so the C-simulation compiles with plain g++ and no vendor header.
 * Its C-simulation semantics are those of Vitis csim: unbounded, and a read of
 * an empty stream is a design error (in hardware it would deadlock), reported
 * with the stream's name and exit code 3.
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

#else
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>

namespace effc_hls {

inline void stream_failure(const char *what, const char *name)
{
    std::fprintf(stderr, "effc_hls: %s (stream '%s')\n", what, name);
    std::exit(3);
}

template <typename T>
class stream {
  public:
    stream() : name_("unnamed") {}
    explicit stream(const char *name) : name_(name) {}

    void write(const T &value) { fifo_.push_back(value); }

    T read()
    {
        if (fifo_.empty()) {
            stream_failure("read from an empty stream: its producer wrote fewer beats", name_);
        }
        T value = fifo_.front();
        fifo_.pop_front();
        return value;
    }

    bool empty() const { return fifo_.empty(); }
    std::size_t size() const { return fifo_.size(); }
    const char *name() const { return name_; }

  private:
    stream(const stream &);
    stream &operator=(const stream &);

    const char *name_;
    std::deque<T> fifo_;
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

}  // namespace effc_hls
#endif

#endif /* EFFC_HLS_STREAM_H */
