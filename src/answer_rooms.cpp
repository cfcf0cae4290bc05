#include "answer_rooms.hpp"

#include <utility>

namespace lf {

void AnswerRooms::take(String &into) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!kept_.empty()) {
            into.swap(kept_.back());
            kept_.pop_back();
            return;
        }
    }
    String room;
    room.assign(size_, '\0');  // zeroed once: give() wipes only what answers used
    room.clear();
    into.swap(room);
}

void AnswerRooms::give(String &from, std::size_t reached) noexcept {
    if (from.capacity() < size_) return;  // not a room (its own destructor wipes it)
    wipe(&from[0], reached < from.capacity() ? reached : from.capacity());
    from.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (kept_.size() < kept_.capacity()) kept_.push_back(std::move(from));
}

}  // namespace lf
