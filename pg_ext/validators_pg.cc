// validators_pg.cc — the validator functions for PostgreSQL (SPEC §1).
//
// Each function is the three phases of boundary.h: read arguments, call the
// core inside vigil::pg::Run (which raises a failure), then return. The C symbol of each
// function equals its SQL name (see vigil.sql).
#include "boundary.h"

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include "rules/rules.h"
#include "validate/validators.h"
#include "base/version.h"

namespace core = vigil::core;
using vigil::pg::ArgText;
using vigil::pg::Run;

namespace {

// IsKind is the body of every vigil_is_<kind>(text) -> boolean.
Datum IsKind(PG_FUNCTION_ARGS, core::CheckFn check) {
  std::string_view value = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_BOOL(Run([&] { return check(value) == nullptr; }));
}

}  // namespace

#define VIGIL_PG_IS_KIND(kind, fn) \
  VIGIL_PG_FUNCTION(vigil_is_##kind) { return IsKind(fcinfo, core::fn); }

VIGIL_PG_IS_KIND(email, CheckEmail)
VIGIL_PG_IS_KIND(url, CheckUrl)
VIGIL_PG_IS_KIND(uuid, CheckUuid)
VIGIL_PG_IS_KIND(phone, CheckPhoneE164)
VIGIL_PG_IS_KIND(iso8601, CheckIso8601)
VIGIL_PG_IS_KIND(ipv4, CheckIpv4)
VIGIL_PG_IS_KIND(ipv6, CheckIpv6)
VIGIL_PG_IS_KIND(cidr, CheckCidr)
VIGIL_PG_IS_KIND(iban, CheckIban)
VIGIL_PG_IS_KIND(luhn, CheckLuhn)
VIGIL_PG_IS_KIND(json, CheckJson)
VIGIL_PG_IS_KIND(crypto_symbol, CheckCryptoSymbol)
VIGIL_PG_IS_KIND(btc_address, CheckBtcAddress)
VIGIL_PG_IS_KIND(eth_address, CheckEthAddress)
VIGIL_PG_IS_KIND(username, CheckUsername)
VIGIL_PG_IS_KIND(semver, CheckSemver)

// vigil_is_phone(text, region): SQL overload, distinct C symbol.
VIGIL_PG_FUNCTION(vigil_is_phone_region) {
  std::string_view value = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view region = ArgText(PG_GETARG_TEXT_PP(1));
  PG_RETURN_BOOL(Run([&] { return core::CheckPhoneInRegion(value, region) == nullptr; }));
}

VIGIL_PG_FUNCTION(vigil_validate) {
  std::string_view kind = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view value = ArgText(PG_GETARG_TEXT_PP(1));
  text* result = Run([&]() -> text* {
    auto reason = core::Explain(kind, value);
    return reason ? vigil::pg::MakeText(*reason) : nullptr;
  });
  if (result == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(result);
}

VIGIL_PG_FUNCTION(vigil_uuid_version) {
  std::string_view value = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_INT32(Run([&] { return core::UuidVersion(value); }));
}

VIGIL_PG_FUNCTION(vigil_iban_normalize) {
  std::string_view value = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] { return vigil::pg::MakeText(core::IbanNormalize(value)); }));
}

VIGIL_PG_FUNCTION(vigil_version) { PG_RETURN_TEXT_P(cstring_to_text(VIGIL_VERSION)); }

// vigil_rule_check(rule text, params jsonb, value text) -> text: NULL when the
// value passes, else the reason. The parsed rule lives in fn_extra (owned by
// the call site's memory context), so a scan parses it once.
VIGIL_PG_FUNCTION(vigil_rule_check) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  std::string_view kind = ArgText(PG_GETARG_TEXT_PP(0));
  char* params = nullptr;
  if (!PG_ARGISNULL(1)) {
    Jsonb* jb = PG_GETARG_JSONB_P(1);
    params = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  }
  std::string_view value;
  bool has_value = !PG_ARGISNULL(2);
  if (has_value) value = ArgText(PG_GETARG_TEXT_PP(2));
  MemoryContext fn_mcxt = fcinfo->flinfo->fn_mcxt;
  auto* cache = static_cast<core::ParsedRuleCache*>(fcinfo->flinfo->fn_extra);
  if (cache == nullptr) {
    cache = Run([&] { return vigil::pg::OwnedByContext<core::ParsedRuleCache>(fn_mcxt); });
    fcinfo->flinfo->fn_extra = cache;
  }
  text* result = Run([&]() -> text* {
    std::optional<std::string_view> p, v;
    if (params) p = params;
    if (has_value) v = value;
    auto reason = core::RuleCheck(*cache, kind, p, v);
    return reason ? vigil::pg::MakeText(*reason) : nullptr;
  });
  if (result == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(result);
}

// vigil_validators(): one row per kind from the core's static table. The
// table is plain data, so this value-per-call SRF holds no C++ object.
VIGIL_PG_FUNCTION(vigil_validators) {
  FuncCallContext* funcctx;
  if (SRF_IS_FIRSTCALL()) {
    funcctx = SRF_FIRSTCALL_INIT();
    MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("function returning record called in context that cannot accept type record")));
    funcctx->attinmeta = TupleDescGetAttInMetadata(tupdesc);
    std::size_t n;
    core::Kinds(&n);
    funcctx->max_calls = n;
    MemoryContextSwitchTo(old);
  }
  funcctx = SRF_PERCALL_SETUP();
  if (funcctx->call_cntr < funcctx->max_calls) {
    std::size_t n;
    const core::KindInfo& k = core::Kinds(&n)[funcctx->call_cntr];
    char* values[3] = {const_cast<char*>(k.name), const_cast<char*>(k.description), const_cast<char*>(k.example)};
    HeapTuple tuple = BuildTupleFromCStrings(funcctx->attinmeta, values);
    SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
  }
  SRF_RETURN_DONE(funcctx);
}
