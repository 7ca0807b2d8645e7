// The exactly-once file sink: two-phase commit with part files, as Flink's FileSink does.
//
// Records (lines) go to a hidden in-progress part file `.part-<uid>-<subtask>-<n>.inprogress`.
// At a barrier the file is flushed, fsynced and closed; it becomes a pending committable that
// the snapshot records in the sink's list state. When the checkpoint completes, pending files of
// that checkpoint and earlier ones are committed by renaming them to `part-<uid>-<subtask>-<n>`.
// Commit is idempotent: after a restore the restored committables are committed again, and a
// committable whose in-progress file is gone but whose final file exists is already done.
// Files written after the last completed checkpoint of a failed attempt stay hidden and are never
// committed (Flink leaves them too).
//
// A restored committable is input, not a command: a restore renames files only inside its own
// output directory, only `.part-X.inprogress` to `part-X`, and never over an existing file
// (RENAME_NOREPLACE). A committable for another directory is acted on nowhere: it is accepted
// only when there is nothing to do (its final file exists and its in-progress file does not, as
// after a restore with a new --output of a job that had committed everything), else the restore
// is refused before any file is touched (check_restored_committables).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::pipeline {

struct Committable {
  std::string dir;          // absolute output directory the files were written to
  std::string in_progress;  // file name in `dir`
  std::string final_name;
  int64_t checkpoint_id = 0;
};

std::string serialize_committable(const Committable& c);
Committable deserialize_committable(std::string_view bytes);

// Throws util::Error (kRefused), one line naming the committable's file, unless every committable in
// `restored` is a part file of `output_dir` or an already committed one elsewhere (see above).
// Only lstat(2)s; touches nothing.
void check_restored_committables(const std::vector<Committable>& restored, const std::filesystem::path& output_dir);

class FileSink {
 public:
  FileSink(std::filesystem::path dir, int32_t subtask, std::string uid);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(std::string_view line);  // a complete line, '\n' included

  // Barrier: closes the current part file into a pending committable; returns every pending,
  // not yet committed committable (the sink's state in this snapshot). The part file closed here
  // is not yet durable: the checkpoint's asynchronous part calls make_durable() on it before it
  // acknowledges (Flink fsyncs in the task thread; this keeps the fsync off the record path).
  std::vector<Committable> prepare_commit(int64_t checkpoint_id);
  // fsync(2) of a committable's in-progress file. Throws util::Error (kIo) naming the file.
  static void make_durable(const Committable& c);
  // Checkpoint `checkpoint_id` completed: commits every pending committable up to it.
  void commit_up_to(int64_t checkpoint_id);
  // Restore: commits what a completed snapshot recorded (idempotent), after
  // check_restored_committables.
  void commit_restored(const std::vector<Committable>& restored);
  // End of input without checkpointing: everything written is committed.
  void commit_all();

  int64_t lines() const { return lines_; }

 private:
  void flush_buffer();
  void commit(const Committable& c);
  std::filesystem::path dir_;
  int32_t subtask_;
  std::string uid_;
  int64_t part_counter_ = 0;
  int fd_ = -1;
  std::string current_in_progress_;
  std::string current_final_;
  std::string buffer_;
  std::vector<Committable> pending_;
  int64_t lines_ = 0;
};

}  // namespace ckpt::pipeline
