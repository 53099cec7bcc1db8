#include "search/run_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "search/front.h"
#include "space/bounded_binary_archive.h"
#include "space/text_io.h"

namespace paretonas::search {
namespace {

constexpr char kCheckpointMagic[8] = {'P', 'N', 'A', 'S', 'C', 'K', 'P', 'T'};
constexpr char kJournalMagic[8] = {'P', 'N', 'A', 'S', 'J', 'R', 'N', 'L'};
constexpr std::uint32_t kJournalFormat = 2;  // 2: results carry their rung

std::uint32_t Crc(const std::string& s) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t GetLE(const std::string& s, size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[pos + i])) << (8 * i);
  return v;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunFileError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// Decodes one journal record's payload into `e`: "" or why it is damaged. `offset`: the record's.
std::string DecodeRecord(const std::string& payload, std::uint32_t crc, std::uint64_t offset, JournalEntry* e) {
  if (Crc(payload) != crc) return "CRC-32 mismatch";
  try {
    BoundedBinaryInputArchive ar(payload, offset + 8);
    ar(*e);
  } catch (const std::exception& ex) {
    return std::string("cannot decode: ") + ex.what();
  }
  return "";
}

std::string Dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

void FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void WriteAllFd(int fd, const std::string& bytes, const std::string& what) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RunFileError(what + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

void WriteFileAtomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RunFileError(path + ": cannot create " + tmp + ": " + std::strerror(errno) +
                       "; the previous " + path + " is intact");
  }
  try {
    WriteAllFd(fd, bytes, tmp);
    if (::fsync(fd) != 0) throw RunFileError(tmp + ": fsync failed: " + std::strerror(errno));
  } catch (const RunFileError& e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw RunFileError(std::string(e.what()) + "; the previous " + path + " is intact");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw RunFileError(path + ": rename failed: " + err + "; the previous file is intact");
  }
  FsyncDir(Dir(path));
}

void SaveCheckpoint(const std::string& path, const SearchState& state) {
  std::ostringstream payload_stream;
  {
    cereal::PortableBinaryOutputArchive ar(payload_stream);
    ar(state);
  }
  const std::string payload = payload_stream.str();
  std::string bytes(kCheckpointMagic, 8);
  PutU32(bytes, kCheckpointFormat);
  PutU64(bytes, payload.size());
  PutU32(bytes, Crc(payload));
  bytes += payload;
  // Keep the previous snapshot: a hard link survives the rename of the new one over `path`.
  const std::string prev = path + ".prev";
  ::unlink(prev.c_str());
  if (::access(path.c_str(), F_OK) == 0) (void)::link(path.c_str(), prev.c_str());
  WriteFileAtomic(path, bytes);
}

SearchState LoadCheckpoint(const std::string& path) {
  const std::string bytes = ReadAll(path);
  constexpr size_t kHeader = 8 + 4 + 8 + 4;
  if (bytes.size() < kHeader) {
    throw RunFileError(path + ": damaged checkpoint at offset " + std::to_string(bytes.size()) +
                       ": file is truncated (" + std::to_string(bytes.size()) +
                       " bytes, the header alone has " + std::to_string(kHeader) + ")");
  }
  if (std::memcmp(bytes.data(), kCheckpointMagic, 8) != 0)
    throw RunFileError(path + ": damaged checkpoint at offset 0: not a paretonas checkpoint");
  const std::uint32_t format = static_cast<std::uint32_t>(GetLE(bytes, 8, 4));
  if (format > kCheckpointFormat) {
    throw RunFileError(path + ": checkpoint format " + std::to_string(format) +
                       " is newer than this paretonas understands (" +
                       std::to_string(kCheckpointFormat) + "); resume it with a newer paretonas");
  }
  const std::uint64_t size = GetLE(bytes, 12, 8);
  const std::uint32_t crc = static_cast<std::uint32_t>(GetLE(bytes, 20, 4));
  if (bytes.size() - kHeader != size) {
    throw RunFileError(path + ": damaged checkpoint at offset " + std::to_string(bytes.size()) +
                       ": expected " + std::to_string(size + kHeader) + " bytes, found " +
                       std::to_string(bytes.size()) + " (truncated or extended)");
  }
  const std::string payload = bytes.substr(kHeader);
  if (Crc(payload) != crc) {
    throw RunFileError(path + ": damaged checkpoint at offset " + std::to_string(kHeader) +
                       ": CRC-32 mismatch over " + std::to_string(size) + " payload bytes");
  }
  SearchState state;
  try {
    BoundedBinaryInputArchive ar(payload, kHeader);
    ar(state);
  } catch (const std::exception& e) {
    throw RunFileError(path + ": damaged checkpoint at offset " + std::to_string(kHeader) +
                       ": cannot decode: " + e.what());
  }
  return state;
}

Journal::ReadResult Journal::Read(const std::string& path) {
  ReadResult r;
  std::string bytes;
  try {
    bytes = ReadAll(path);
  } catch (const RunFileError&) {
    return r;  // no journal yet
  }
  if (bytes.empty()) return r;
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kJournalMagic, 8) != 0) {
    r.error = path + ": damaged journal at offset 0: not a paretonas journal header";
    return r;
  }
  const std::uint32_t format = static_cast<std::uint32_t>(GetLE(bytes, 8, 4));
  if (format > kJournalFormat) {
    throw RunFileError(path + ": journal format " + std::to_string(format) +
                       " is newer than this paretonas understands (" +
                       std::to_string(kJournalFormat) + ")");
  }
  size_t pos = 12;
  r.valid_bytes = pos;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 8) {
      r.error = path + ": damaged journal at offset " + std::to_string(pos) +
                ": truncated record header";
      break;
    }
    const std::uint64_t len = GetLE(bytes, pos, 4);
    const std::uint32_t crc = static_cast<std::uint32_t>(GetLE(bytes, pos + 4, 4));
    if (bytes.size() - pos - 8 < len) {
      r.error = path + ": damaged journal at offset " + std::to_string(pos) +
                ": truncated record (" + std::to_string(len) + " bytes announced)";
      break;
    }
    JournalEntry e;
    if (const std::string why = DecodeRecord(bytes.substr(pos + 8, len), crc, pos, &e); !why.empty()) {
      r.error = path + ": damaged journal at offset " + std::to_string(pos) + ": " + why;
      break;
    }
    r.entries.push_back(std::move(e));
    pos += 8 + len;
    r.valid_bytes = pos;
  }
  return r;
}

Journal::Journal(const std::string& path) : path_(path) {
  ReadResult r = Read(path);
  for (auto& e : r.entries) {
    entries_[{e.result.trial_id, e.result.rung}] = e;
    order_.push_back({e.result.trial_id, e.result.rung});
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw RunFileError(path + ": cannot open journal: " + std::strerror(errno));
  if (!r.error.empty()) {
    warning_ = r.error + "; kept the " + std::to_string(r.entries.size()) +
               " valid records before it and cut the rest";
  }
  if (r.valid_bytes == 0) {
    if (::ftruncate(fd_, 0) != 0) throw RunFileError(path + ": cannot reset journal");
    ::lseek(fd_, 0, SEEK_SET);
    WriteAllFd(fd_, JournalHeaderBytes(), path);
    ::fsync(fd_);
  } else {
    if (::ftruncate(fd_, static_cast<off_t>(r.valid_bytes)) != 0)
      throw RunFileError(path + ": cannot cut the damaged tail: " + std::strerror(errno));
    ::lseek(fd_, static_cast<off_t>(r.valid_bytes), SEEK_SET);
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::string JournalHeaderBytes() {
  std::string header(kJournalMagic, 8);
  PutU32(header, kJournalFormat);
  return header;
}

std::string JournalRecordBytes(const JournalEntry& entry) {
  std::ostringstream payload_stream;
  {
    cereal::PortableBinaryOutputArchive ar(payload_stream);
    ar(entry);
  }
  const std::string payload = payload_stream.str();
  std::string record;
  PutU32(record, static_cast<std::uint32_t>(payload.size()));
  PutU32(record, Crc(payload));
  record += payload;
  return record;
}

JournalTail::Update JournalTail::Poll() {
  Update u;
  auto restart = [&] {
    u.restarted = offset_ > 0 || unreadable_;
    offset_ = incomplete_ = damaged_at_ = 0;
    unreadable_ = false;
    damaged_head_.clear();
  };
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    restart();
    return u;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return u;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (static_cast<std::uint64_t>(st.st_ino) != inode_ || size < offset_ + incomplete_) {
    if (inode_ != 0 || offset_ > 0) restart();
    inode_ = static_cast<std::uint64_t>(st.st_ino);
  }
  if (!damaged_head_.empty()) {  // cut where the damage was, and written again?
    std::string head(damaged_head_.size(), '\0');
    const ssize_t n = ::pread(fd, &head[0], head.size(), static_cast<off_t>(damaged_at_));
    if (n != static_cast<ssize_t>(head.size()) || head != damaged_head_) restart();
  }
  if (unreadable_ || size <= offset_) {
    ::close(fd);
    incomplete_ = size - std::min(size, offset_);
    return u;
  }
  std::string bytes(size - offset_, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::pread(fd, &bytes[got], bytes.size() - got, static_cast<off_t>(offset_ + got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  std::size_t pos = 0;
  if (offset_ == 0) {
    if (bytes.size() < 12) {
      incomplete_ = bytes.size();
      return u;
    }
    if (std::memcmp(bytes.data(), kJournalMagic, 8) != 0) {
      u.skipped.push_back(path_ + ": not a paretonas journal (bad header); nothing of it is shown");
      unreadable_ = true;
      return u;
    }
    pos = 12;
  }
  while (bytes.size() - pos >= 8) {
    const std::uint64_t at = offset_ + pos;
    const std::uint64_t len = GetLE(bytes, pos, 4);
    const auto crc = static_cast<std::uint32_t>(GetLE(bytes, pos + 4, 4));
    if (len > (std::uint64_t{1} << 28)) {  // no record is this big: the framing is lost from here
      u.skipped.push_back(path_ + ": damaged record at offset " + std::to_string(at) + " announces " +
                          std::to_string(len) + " bytes; the records after it cannot be found and are not shown");
      unreadable_ = true;
      break;
    }
    if (bytes.size() - pos - 8 < len) break;  // not all written yet
    JournalEntry e;
    const std::string why = DecodeRecord(bytes.substr(pos + 8, len), crc, at, &e);
    pos += 8 + len;
    if (!why.empty()) {
      u.skipped.push_back(path_ + ": damaged record at offset " + std::to_string(at) + " skipped: " + why);
      damaged_at_ = at;
      damaged_head_ = bytes.substr(pos - 8 - len, std::min<std::size_t>(24, 8 + len));
      continue;
    }
    u.entries.push_back(std::move(e));
  }
  offset_ += pos;
  incomplete_ = size - offset_;
  return u;
}

void Journal::Append(const JournalEntry& entry) {
  const std::string record = JournalRecordBytes(entry);
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  try {
    WriteAllFd(fd_, record, path_);
    if (::fsync(fd_) != 0) throw RunFileError(path_ + ": fsync failed: " + std::strerror(errno));
  } catch (const RunFileError&) {
    // Leave the file at a record boundary so the journal stays readable.
    if (::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
    throw;
  }
  entries_[{entry.result.trial_id, entry.result.rung}] = entry;
  order_.push_back({entry.result.trial_id, entry.result.rung});
}

std::string JsonString(const std::string& s) { return JsonQuote(s); }

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  // The shortest form that reads back as the same double (71.4, not 71.400000000000006).
  // std::to_chars with a precision writes what printf's "%.*g" writes, several times faster (a
  // 100,000-trial run's columns hold 700,000 numbers).
  char buf[40];
  char* end = buf;
  for (int digits = 15; digits <= 17; ++digits) {
    end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, digits).ptr;
    double back = 0;
    std::from_chars(buf, end, back);
    if (back == v) break;
  }
  return std::string(buf, end);
}

std::string IsoTime(double unix_seconds) {
  const auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  const int millis = std::min(999, static_cast<int>((unix_seconds - static_cast<double>(whole)) * 1000));
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string TrialJson(const Trial& t, const Problem* problem) {
  std::ostringstream jsonl;
  jsonl << "{\"id\":" << t.id << ",\"generation\":" << t.generation
        << ",\"arch\":" << JsonString(t.key) << ",\"hash\":" << JsonString(t.hash)
        << ",\"status\":" << JsonString(TrialStateName(t.state)) << ",\"seed\":" << t.seed
        << ",\"parents\":[";
  for (size_t i = 0; i < t.parents.size(); ++i) jsonl << (i ? "," : "") << t.parents[i];
  jsonl << "],\"seconds\":" << JsonNumber(t.seconds);
  if (t.finished_unix > 0)
    jsonl << ",\"started\":" << JsonString(IsoTime(t.started_unix)) << ",\"finished\":"
          << JsonString(IsoTime(t.finished_unix));
  if (problem && problem->space && t.genotype.size() == problem->space->decisions().size()) {
    const auto& decisions = problem->space->decisions();
    jsonl << ",\"choices\":{";
    for (size_t d = 0; d < decisions.size(); ++d) {
      const int c = t.genotype[d];
      jsonl << (d ? "," : "") << JsonString(decisions[d].name) << ":"
            << JsonString(c >= 0 && c < static_cast<int>(decisions[d].labels.size()) ? decisions[d].labels[c] : "?");
    }
    jsonl << "}";
  }
  if (!t.failure.empty()) jsonl << ",\"failure\":" << JsonString(t.failure);
  if (problem && t.state == TrialState::kComplete) {
    const std::vector<std::string> violated = problem->Violated(t);
    jsonl << ",\"feasible\":" << (violated.empty() ? "true" : "false");
    if (!violated.empty()) {
      jsonl << ",\"violated\":[";
      for (size_t i = 0; i < violated.size(); ++i) jsonl << (i ? "," : "") << JsonString(violated[i]);
      jsonl << "]";
    }
  }
  for (const auto& [k, v] : t.metrics) jsonl << "," << JsonString(k) << ":" << JsonNumber(v);
  if (t.rung >= 0) {  // multi-fidelity: the rung reached and the learning curve
    jsonl << ",\"rung\":" << t.rung << ",\"curve\":[";
    for (size_t i = 0; i < t.curve.size(); ++i) {
      const RungResult& c = t.curve[i];
      jsonl << (i ? "," : "") << "{\"rung\":" << c.rung << ",\"resource\":"
            << JsonNumber(c.resource) << ",\"seconds\":" << JsonNumber(c.seconds);
      if (c.generation >= 0) jsonl << ",\"generation\":" << c.generation;
      for (const auto& [k, v] : c.metrics) jsonl << "," << JsonString(k) << ":" << JsonNumber(v);
      jsonl << "}";
    }
    jsonl << "]";
  }
  jsonl << "}";
  return jsonl.str();
}

void WriteTrialFiles(const std::string& run_dir, const SearchState& state, const Problem& problem) {
  std::string jsonl;
  std::set<std::string> metric_names;
  for (const Trial& t : state.trials) {
    if (!t.finished()) continue;
    for (const auto& [k, v] : t.metrics) metric_names.insert(k);
    jsonl += TrialJson(t, &problem) + "\n";
  }
  WriteFileAtomic(run_dir + "/trials.jsonl", jsonl);

  std::ostringstream csv;
  csv << "id,arch,hash,generation";
  for (const auto& m : metric_names) csv << "," << m;
  csv << "\n";
  for (auto id : ParetoFront(state, problem)) {
    const Trial& t = state.trials[id];
    csv << t.id << ",\"" << t.key << "\"," << t.hash << "," << t.generation;
    for (const auto& m : metric_names) {
      auto it = t.metrics.find(m);
      csv << ",";
      if (it != t.metrics.end()) csv << JsonNumber(it->second);
    }
    csv << "\n";
  }
  WriteFileAtomic(run_dir + "/front.csv", csv.str());
}

}  // namespace paretonas::search
