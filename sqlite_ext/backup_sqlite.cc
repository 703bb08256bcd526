// backup_sqlite.cc — SQLite backups (SPEC §6, issue 14): vigil_backup,
// vigil_backup_verify and vigil_restore. The online backup API reads the
// database from a second connection into memory (one consistent read
// transaction); with a passphrase the copy is written in the age v1 format
// (secrets/age.h), which `age -d` opens. Files appear whole or not at all:
// a temporary file beside the target (O_EXCL, mode 0600), written, fsync'd,
// then linked to its name (never over an existing file) and its directory
// fsync'd. A restore is checked with PRAGMA integrity_check before it
// appears. docs/secrets.md has the decisions.
#include <sqlite3ext.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "boundary.h"
#include "module_sqlite.h"
#include "secrets/age.h"
#include "secrets/secrets.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;
namespace age = vigil::core::age;
using core::Error;
using core::ErrorCode;
using json = nlohmann::json;

constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
// A database is copied through memory: at most 4 GiB (docs/secrets.md).
constexpr sqlite3_int64 kMaxBytes = sqlite3_int64{4} << 30;

[[noreturn]] void Io(const std::string& what, const std::string& path) {
  std::string message = "backup: ";
  message += what;
  message += " \"";
  message += path;
  message += "\": ";
  message += std::strerror(errno);
  throw Error(errno == ENOENT ? ErrorCode::kUndefinedFile : ErrorCode::kEngine, message);
}

std::string PathArg(sqlite3_value* v, const char* what) {
  if (sqlite3_value_type(v) == SQLITE_NULL) throw Error(ErrorCode::kNullValue, std::string(what) + " must not be NULL");
  std::string_view p = Text(v);
  if (p.empty() || p.find('\0') != std::string_view::npos)
    throw Error(ErrorCode::kInvalidParameter, std::string(what) + " must be a file name");
  return std::string(p);
}

std::optional<std::string> Passphrase(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  std::string_view p = Text(v);
  if (p.empty()) throw Error(ErrorCode::kInvalidParameter, "backup: the passphrase is empty");
  return std::string(p);
}

// Connection owns an sqlite3 handle.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

// NewFile is the temporary file beside `target`: written, fsync'd, then
// Publish links it to `target` (EEXIST if a file is there) and removes
// the temporary name; anything that leaves early removes it.
class NewFile : public age::Sink {
 public:
  explicit NewFile(const std::string& target) : target_(target) {
    struct stat st;
    if (lstat(target.c_str(), &st) == 0)
      throw Error(ErrorCode::kInvalidParameter, "backup: \"" + target + "\" exists; vigil does not overwrite files");
    // A -wal, -journal or -shm file left beside the name (a crash, a
    // database removed without them) would be read as part of the new
    // database by the next connection that opens it.
    for (const char* suffix : {"-wal", "-journal", "-shm"}) {
      std::string companion = target + suffix;
      if (lstat(companion.c_str(), &st) == 0)
        throw Error(ErrorCode::kInvalidParameter,
                    "backup: \"" + companion + "\" exists; SQLite would read it as part of the new file", {},
                    "remove it, or choose another name");
    }
    std::string random = core::secrets::ApiKeyGenerate("tmp");
    temp_ = target + ".vigil-" + random.substr(4, 16);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) Io("cannot create a file beside", target);
  }
  ~NewFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) ::unlink(temp_.c_str());
  }
  void Write(std::string_view bytes) override {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Io("cannot write", temp_);
      bytes.remove_prefix(static_cast<std::size_t>(n));
      written_ += static_cast<std::uint64_t>(n);
    }
  }
  // Sync makes the content durable; the file still has only its temporary
  // name.
  void Sync() {
    if (::fsync(fd_) != 0) Io("cannot fsync", temp_);
    if (::close(fd_) != 0) Io("cannot close", temp_);
    fd_ = -1;
  }
  const std::string& temp() const { return temp_; }
  void Publish() {
    if (fd_ >= 0) Sync();
    if (::link(temp_.c_str(), target_.c_str()) != 0) {
      if (errno == EEXIST)
        throw Error(ErrorCode::kInvalidParameter, "backup: \"" + target_ + "\" exists; vigil does not overwrite files");
      Io("cannot create", target_);
    }
    published_ = true;
    ::unlink(temp_.c_str());
    std::string dir = target_.find('/') == std::string::npos ? "." : target_.substr(0, target_.rfind('/') + 1);
    int d = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
      ::fsync(d);
      ::close(d);
    }
  }
  std::uint64_t written() const { return written_; }

 private:
  std::string target_, temp_;
  int fd_ = -1;
  bool published_ = false;
  std::uint64_t written_ = 0;
};

class FileSource : public age::Source {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    // Non-blocking open (a FIFO would block it for ever), then only a
    // regular file is read.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) Io("cannot open", path);
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      throw Error(ErrorCode::kInvalidParameter, "backup: \"" + path + "\" is not a regular file");
    }
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  }
  ~FileSource() override {
    if (fd_ >= 0) ::close(fd_);
  }
  std::size_t Read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t k = ::read(fd_, buf, n);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) Io("cannot read", path_);
      return static_cast<std::size_t>(k);
    }
  }
  // Peek reads the first bytes and goes back to the start.
  std::string Peek(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = Read(out.data(), n);
    out.resize(got);
    if (::lseek(fd_, 0, SEEK_SET) != 0) Io("cannot read", path_);
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

struct StringSink : age::Sink {
  std::string data;
  void Write(std::string_view b) override {
    if (data.size() + b.size() > static_cast<std::size_t>(kMaxBytes))
      throw Error(ErrorCode::kProgramLimit, "backup: the database is larger than 4 GiB");
    data.append(b);
  }
};

// Integrity runs PRAGMA integrity_check on a database vigil just wrote or
// decrypted, with nothing of the file trusted: defensive mode, no trusted
// schema, no extensions. "ok", or the first messages.
std::string Integrity(sqlite3* db) {
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, nullptr) != SQLITE_OK)
    return std::string("not a database: ") + sqlite3_errmsg(db);
  std::string out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!out.empty()) out += "; ";
    const unsigned char* t = sqlite3_column_text(st, 0);
    out += t ? reinterpret_cast<const char*>(t) : "";
  }
  if (rc != SQLITE_DONE) out = std::string("not a database: ") + sqlite3_errmsg(db);
  sqlite3_finalize(st);
  return out;
}

// Decrypted reads a backup (age or a plain database) into memory.
struct Opened {
  std::string bytes;
  bool encrypted = false;
  int work_factor = 0;
};
Opened ReadBackup(const std::string& path, const std::optional<std::string>& passphrase) {
  FileSource src(path);
  std::string head = src.Peek(age::kMagic.size());
  Opened o;
  if (head == age::kMagic) {
    if (!passphrase)
      throw Error(ErrorCode::kInvalidParameter, "backup: the file is encrypted; give its passphrase");
    StringSink sink;
    age::Decrypted d = age::Decrypt(src, *passphrase, age::kMaxWorkFactor, sink);
    o.bytes = std::move(sink.data);
    o.encrypted = true;
    o.work_factor = d.work_factor;
  } else if (head.substr(0, kSqliteMagic.size()) == kSqliteMagic) {
    if (passphrase) throw Error(ErrorCode::kInvalidParameter, "backup: the file is not encrypted, but a passphrase was given");
    StringSink sink;
    char buf[65536];
    for (std::size_t n; (n = src.Read(buf, sizeof buf)) > 0;) sink.Write(std::string_view(buf, n));
    o.bytes = std::move(sink.data);
  } else {
    throw Error(ErrorCode::kInvalidParameter, "backup: \"" + path + "\" is neither an age file nor an SQLite database");
  }
  return o;
}

// OpenImage opens an in-memory copy of a database image.
void OpenImage(Connection* c, const std::string& bytes) {
  if (sqlite3_open_v2(":memory:", &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    throw Error(ErrorCode::kEngine, "backup: cannot open a memory database");
  auto* image = static_cast<unsigned char*>(sqlite3_malloc64(bytes.size() ? bytes.size() : 1));
  if (image == nullptr) throw std::bad_alloc();
  std::memcpy(image, bytes.data(), bytes.size());
  // A database in WAL mode (header bytes 18 and 19 are 2) cannot be read
  // from memory, which has no -shm: the copy says rollback journal.
  if (bytes.size() >= 100 && image[18] == 2 && image[19] == 2) image[18] = image[19] = 1;
  if (sqlite3_deserialize(c->db, "main", image, static_cast<sqlite3_int64>(bytes.size()),
                          static_cast<sqlite3_int64>(bytes.size()),
                          SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
    throw Error(ErrorCode::kEngine, "backup: the content is not an SQLite database");
}

// vigil_backup(path, passphrase DEFAULT NULL) -> json
void Backup(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string path = PathArg(argv[0], "path");
  std::optional<std::string> passphrase = argc > 1 ? Passphrase(argv[1]) : std::nullopt;
  sqlite3* db = sqlite3_context_db_handle(ctx);
  const char* file = sqlite3_db_filename(db, "main");
  // A second connection to the file, read-only, so the copy is one read
  // transaction beside whatever this connection does; a database without a
  // file (":memory:") is copied from this connection.
  // The second connection goes through the caller's VFS (an encrypting
  // or in-memory VFS names a file that is not the plain file on disk); a
  // database of the memdb VFS is copied from this connection.
  Connection second, copy;
  sqlite3* src = db;
  sqlite3_vfs* vfs = nullptr;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs);
  bool memdb = vfs != nullptr && vfs->zName != nullptr && std::strcmp(vfs->zName, "memdb") == 0;
  if (file != nullptr && file[0] != '\0' && !memdb) {
    if (sqlite3_open_v2(file, &second.db, SQLITE_OPEN_READONLY, vfs != nullptr ? vfs->zName : nullptr) != SQLITE_OK)
      throw Error(ErrorCode::kEngine, std::string("backup: cannot open the database a second time: ") +
                                          (second.db ? sqlite3_errmsg(second.db) : "out of memory"));
    sqlite3_busy_timeout(second.db, 5000);
    src = second.db;
  }
  // Refused before copying: over 4 GiB (docs/secrets.md).
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_int64 bytes = 0;
    if (sqlite3_prepare_v2(src, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1, &st,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      bytes = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (bytes > kMaxBytes) throw Error(ErrorCode::kProgramLimit, "backup: the database is larger than 4 GiB");
  }
  // The copy lives in the memdb VFS, whose image is one contiguous buffer:
  // serialized without a second copy of the database (NOCOPY below).
  if (sqlite3_open_v2("file:vigil_backup?vfs=memdb", &copy.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
    throw Error(ErrorCode::kEngine, "backup: cannot open a memory database");
  sqlite3_int64 limit = kMaxBytes;
  sqlite3_file_control(copy.db, "main", SQLITE_FCNTL_SIZE_LIMIT, &limit);  // memdb's default is 1 GiB
  sqlite3_int64 pages = 0;
  {
    sqlite3_backup* b = sqlite3_backup_init(copy.db, "main", src, "main");
    if (b == nullptr) throw Error(ErrorCode::kEngine, std::string("backup: ") + sqlite3_errmsg(copy.db));
    int rc = sqlite3_backup_step(b, -1);
    pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      throw Error(ErrorCode::kLockTimeout, "backup: the database stayed locked for 5 s", {},
                  "a connection in PRAGMA locking_mode = EXCLUSIVE, or one writing, holds it: commit, or back up "
                  "from that connection outside its transaction");
    if (rc != SQLITE_DONE) throw Error(ErrorCode::kEngine, std::string("backup: ") + sqlite3_errstr(rc));
  }
  sqlite3_int64 size = 0;
  unsigned char* image = sqlite3_serialize(copy.db, "main", &size, SQLITE_SERIALIZE_NOCOPY);
  if (image == nullptr) throw std::bad_alloc();  // the copy's own buffer, freed with the connection
  if (size > kMaxBytes) throw Error(ErrorCode::kProgramLimit, "backup: the database is larger than 4 GiB");
  std::string_view bytes(reinterpret_cast<const char*>(image), static_cast<std::size_t>(size));
  NewFile out(path);
  if (passphrase) age::Encrypt(bytes, *passphrase, age::kDefaultWorkFactor, out);
  else out.Write(bytes);
  out.Publish();
  json r = {{"path", path}, {"bytes", size}, {"pages", pages}, {"file_bytes", out.written()},
            {"encrypted", passphrase.has_value()}};
  if (passphrase) r["work_factor"] = age::kDefaultWorkFactor;
  ResultText(ctx, r.dump());
}

// vigil_backup_verify(path, passphrase DEFAULT NULL) -> json
void BackupVerify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string path = PathArg(argv[0], "path");
  std::optional<std::string> passphrase = argc > 1 ? Passphrase(argv[1]) : std::nullopt;
  Opened o = ReadBackup(path, passphrase);
  Connection c;
  OpenImage(&c, o.bytes);
  std::string integrity = Integrity(c.db);
  json r = {{"path", path}, {"valid", integrity == "ok"}, {"integrity", integrity},
            {"bytes", o.bytes.size()}, {"encrypted", o.encrypted}};
  if (o.encrypted) r["work_factor"] = o.work_factor;
  ResultText(ctx, r.dump());
}

// vigil_restore(path, passphrase, target_path) -> json
void Restore(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::string path = PathArg(argv[0], "path");
  std::optional<std::string> passphrase = Passphrase(argv[1]);
  std::string target = PathArg(argv[2], "target_path");
  Opened o = ReadBackup(path, passphrase);
  // Checked in memory, before a byte reaches the target's directory (an
  // SQLite connection to the new file would leave -wal and -shm files
  // under its temporary name).
  std::string integrity;
  {
    Connection c;
    OpenImage(&c, o.bytes);
    integrity = Integrity(c.db);
  }
  if (integrity != "ok")
    throw Error(ErrorCode::kInvalidParameter, "backup: the restored database fails PRAGMA integrity_check: " + integrity,
                {}, "nothing was written to the target");
  NewFile out(target);
  out.Write(o.bytes);
  out.Publish();
  json r = {{"path", target}, {"bytes", o.bytes.size()}, {"integrity", integrity}, {"encrypted", o.encrypted}};
  ResultText(ctx, r.dump());
}

const Impl kImpls[] = {
    {"vigil_backup", Bridge<Backup>, nullptr, false, false},
    {"vigil_backup_verify", Bridge<BackupVerify>, nullptr, false, false},
    {"vigil_restore", Bridge<Restore>, nullptr, false, false},
};

}  // namespace

std::span<const Impl> BackupImpls() { return kImpls; }

}  // namespace vigil::sqlite
