// exporter.cc — `vigil exporter`: serves vigil_metrics() over HTTP for
// Prometheus, and `vigil metrics`: prints it once (the node exporter's
// textfile collector). "Database unavailable" cannot be said from inside
// the database, so the exporter adds vigil_up (0 when it cannot connect or
// query) and the scrape's own duration, the client's view of response
// time (docs/health.md).
//
// HTTP is libmicrohttpd's (Debian libmicrohttpd-dev), a thread per
// connection with per-address and total limits; scrapes run one at a time
// over one database connection, kept between scrapes and opened again
// after a failure.
#include "exporter.h"

#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "connection.h"

namespace vigil::cli {
namespace {

struct Scraper {
  std::string db, module;
  std::unique_ptr<Connection> conn;
  std::string last_error;  // printed once per change, not once per scrape
  std::mutex mutex;
};

std::string Seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", s);
  return buf;
}

// Scrape: the database's metrics followed by vigil_up and the duration.
std::string Scrape(Scraper* s) {
  std::lock_guard<std::mutex> lock(s->mutex);
  auto t0 = std::chrono::steady_clock::now();
  std::string body;
  bool up = false;
  try {
    if (!s->conn) s->conn = Connect(s->db, false, s->module);
    auto rows = s->conn->Query("SELECT " + s->conn->Prefix() + "vigil_metrics()");
    if (rows.empty() || !rows[0][0]) throw DbError("vigil_metrics() returned nothing", "", "");
    body = *rows[0][0];
    up = true;
    if (!s->last_error.empty()) std::cerr << "vigil exporter: the database answers again\n";
    s->last_error.clear();
  } catch (const std::exception& e) {
    s->conn.reset();  // opened again at the next scrape
    std::string why = e.what();
    if (why != s->last_error) std::cerr << "vigil exporter: " << why << "\n";
    s->last_error = why;
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  body += "# HELP vigil_up Whether the exporter could query the database: 1 yes, 0 no (unavailable).\n";
  body += "# TYPE vigil_up gauge\n";
  body += std::string("vigil_up ") + (up ? "1" : "0") + "\n";
  body += "# HELP vigil_scrape_duration_seconds How long connecting and running vigil_metrics() took.\n";
  body += "# TYPE vigil_scrape_duration_seconds gauge\n";
  body += "vigil_scrape_duration_seconds " + Seconds(took) + "\n";
  return body;
}

MHD_Result Reply(MHD_Connection* c, unsigned status, const std::string& body, const char* type) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

MHD_Result Handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*, const char*,
                  size_t* upload_size, void** state) noexcept {
  // The first call announces the request; the answer goes with the second.
  static int marker;
  if (*state != &marker) {
    *state = &marker;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    *upload_size = 0;  // a body is not read
    return MHD_YES;
  }
  try {
    if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0)
      return Reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain; charset=utf-8");
    if (std::strcmp(url, "/metrics") == 0)
      return Reply(c, MHD_HTTP_OK, Scrape(static_cast<Scraper*>(cls)), "text/plain; version=0.0.4; charset=utf-8");
    if (std::strcmp(url, "/") == 0)
      return Reply(c, MHD_HTTP_OK, "vigil exporter: metrics at /metrics\n", "text/plain; charset=utf-8");
    return Reply(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n", "text/plain; charset=utf-8");
  } catch (...) {
    return MHD_NO;  // out of memory: the connection is closed
  }
}

}  // namespace

std::string MetricsOnce(const std::string& db, const std::string& module, bool* up) {
  Scraper s;
  s.db = db;
  s.module = module;
  std::string body = Scrape(&s);
  *up = s.last_error.empty();
  return body;
}

int RunExporter(const std::string& db, const std::string& module, const std::string& listen) {
  // host:port, [v6]:port, or :port (every address).
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    std::cerr << "vigil: --listen needs HOST:PORT (127.0.0.1:9187, [::1]:9187, :9187)\n";
    return 2;
  }
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    std::cerr << "vigil: --listen " << listen << ": " << gai_strerror(rc) << "\n";
    return 2;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, freeaddrinfo);
  // A query that hangs must not hang the exporter: PostgreSQL gets a
  // connect timeout and a statement timeout unless the environment says.
  setenv("PGCONNECT_TIMEOUT", "5", 0);
  setenv("PGOPTIONS", "-c statement_timeout=10000", 0);
  Scraper scraper;
  scraper.db = db;
  scraper.module = module;
  // SIGINT and SIGTERM are taken by sigwait below, in every thread.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  // A thread per connection, so a client that sends slowly holds one
  // thread, not the exporter; at most 4 connections per address and 64 in
  // all, each closed after 10 s without a byte. Scrapes still run one at a
  // time over the one database connection (Scraper's mutex).
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
  if (found->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  MHD_Daemon* d = MHD_start_daemon(flags, 0, nullptr, nullptr, &Handle, &scraper, MHD_OPTION_SOCK_ADDR, found->ai_addr,
                                   MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4u,
                                   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                   MHD_OPTION_END);
  if (d == nullptr) {
    std::cerr << "vigil: cannot listen on " << listen << " (in use, or not an address of this machine)\n";
    return 1;
  }
  std::cerr << "vigil exporter: serving /metrics on " << listen << "\n";
  int sig = 0;
  sigwait(&stop, &sig);
  MHD_stop_daemon(d);
  std::cerr << "vigil exporter: stopped\n";
  return 0;
}

}  // namespace vigil::cli
