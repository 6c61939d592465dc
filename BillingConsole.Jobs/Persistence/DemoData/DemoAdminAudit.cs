using BillingConsole.Domain.Audit;
using BillingConsole.Domain.Common;
using static BillingConsole.Persistence.DemoData.DemoStaff;

namespace BillingConsole.Persistence.DemoData;

/// <summary>What the admins did over the months: the policy install, settings changes, API keys, new colleagues.</summary>
internal static class DemoAdminAudit
{
    public static List<AuditEntry> Entries(DemoWorld world, string policyJson)
    {
        var entries = new List<AuditEntry>();
        var signupKey = DeterministicGuid.For("demo-api-key:signup-flow:1").ToString();
        var rotatedKey = DeterministicGuid.For("demo-api-key:signup-flow:2").ToString();

        void Add(double day, int hour, string actor, string? role, string action, string entityType, string entityId, string reason,
            string? before, string? after)
        {
            var at = world.Start.AddDays(day).AddHours(hour).AddMinutes(day * 7 % 60);
            if (at <= world.Now)
                entries.Add(new AuditEntry(actor, role, action, entityType, entityId, reason, before, after, new DateTimeOffset(at)));
        }

        Add(0, 0, "system", null, "dunning_policy.create", "dunning_policy", "1", "Default dunning policy installed with the console.",
            null, policyJson);
        Add(1, 9, Admins[0], AdminRole, "user.grant_role", "user", Admins[1], "Second administrator for holidays and on-call.",
            null, """{"role":"admin"}""");
        Add(1, 10, Admins[0], AdminRole, "user.grant_role", "user", FinanceLead, "Finance lead: dashboards and write-off reviews.",
            null, """{"role":"finance"}""");
        Add(2, 11, Admins[0], AdminRole, "settings.update", "setting", "billing.schedule",
            "Run billing just after midnight UTC so invoices carry the date of the period they start.",
            """{"cron":"0 2 * * *","time_zone":"UTC","chunk_size":500}""", """{"cron":"5 0 * * *","time_zone":"UTC","chunk_size":500}""");
        Add(3, 14, Admins[1], AdminRole, "api_key.create", "api_key", signupKey, "Key for the production sign-up flow.",
            null, """{"name":"signup-flow","prefix":"bc_live_4f2a"}""");
        for (var i = 0; i < SupportAgents.Length; i++)
        {
            Add(4 + i * 37, 9, Admins[i % 2], AdminRole, "user.grant_role", "user", SupportAgents[i],
                i == 0 ? "First support agent." : "New support agent joins the team.", null, """{"role":"support"}""");
        }
        Add(45, 15, Admins[0], AdminRole, "settings.update", "setting", "billing.tax_rates",
            "Add Irish VAT: first customers in Ireland signed up this week.",
            """{"DE":0.19,"FR":0.20,"NL":0.21,"ES":0.21}""", """{"DE":0.19,"FR":0.20,"NL":0.21,"ES":0.21,"IE":0.23}""");
        Add(74, 16, Admins[1], AdminRole, "settings.update", "setting", "gateway.sandbox",
            "Raise the gateway timeout to 30 s to match what the real gateway allows.", """{"timeout_seconds":10}""", """{"timeout_seconds":30}""");
        Add(96, 10, FinanceLead, FinanceRole, "settings.update", "setting", "billing.invoice_footer",
            "Show the company registration number on invoices, as the auditors asked.",
            """{"footer":"Northbeam Inc."}""", """{"footer":"Northbeam Inc. · Reg. no. 7734-118-22"}""");
        Add(182, 13, Admins[1], AdminRole, "api_key.revoke", "api_key", signupKey, "Half-yearly key rotation.",
            """{"revoked":false}""", """{"revoked":true}""");
        Add(182, 13, Admins[1], AdminRole, "api_key.create", "api_key", rotatedKey, "Half-yearly key rotation.",
            null, """{"name":"signup-flow","prefix":"bc_live_91c7"}""");
        Add(305, 11, Admins[0], AdminRole, "settings.update", "setting", "billing.schedule",
            "Billing runs got slower with growth; larger chunks, same schedule.",
            """{"cron":"5 0 * * *","time_zone":"UTC","chunk_size":500}""", """{"cron":"5 0 * * *","time_zone":"UTC","chunk_size":1000}""");
        Add(410, 9, FinanceLead, FinanceRole, "settings.update", "setting", "reports.receivables",
            "Age buckets as finance reports them to the board: 0–30, 31–60, 61–90, over 90 days.",
            """{"buckets":[30,60]}""", """{"buckets":[30,60,90]}""");
        return entries;
    }
}
