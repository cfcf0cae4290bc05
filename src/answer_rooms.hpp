// Room for token answers, taken before a code goes out and kept by the
// handle for reuse.
//
// An exchange must not need memory once its code is out, so room for the
// whole answer (up to 64 KiB) is taken first. Allocating and wiping 64 KiB
// per exchange to read an answer of a few hundred bytes cost more than the
// rest of the library's work on it (and under many concurrent calls the
// wipe faulted fresh pages in). So the rooms are kept: a room is zeroed
// once when it is made and, when it comes back, wiped only as far as its
// answers reached; the rest of it is still zero. A room that is not kept
// (more came back than are kept) is freed like any String, fully wiped.
#pragma once

#include <cstddef>
#include <mutex>

#include "alloc.hpp"

namespace lf {

class AnswerRooms {
public:
    explicit AnswerRooms(std::size_t size) : size_(size) { kept_.reserve(kKept); }
    AnswerRooms(const AnswerRooms &) = delete;
    AnswerRooms &operator=(const AnswerRooms &) = delete;

    // Swaps an empty room of `size` bytes into `into` (which must be empty).
    // Throws std::bad_alloc.
    void take(String &into);
    // Takes the room back from `from`, whose answers reached `reached` bytes.
    void give(String &from, std::size_t reached) noexcept;

private:
    // Enough for a steady flow (a room comes back and is taken again at
    // once); what a burst leaves behind is bounded (1 MiB at the 64 KiB cap).
    static constexpr std::size_t kKept = 16;
    std::size_t size_;
    std::mutex mu_;
    Vector<String> kept_;  // under mu_; its capacity is reserved: give never allocates
};

}  // namespace lf
