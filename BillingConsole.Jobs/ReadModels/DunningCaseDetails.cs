using Dapper;
using Npgsql;

namespace BillingConsole.ReadModels;

public sealed record DunningCaseDetail(Guid Id, Guid InvoiceId, string? InvoiceNumber, string InvoiceStatus, Guid CustomerId, string CustomerName,
    string CustomerEmail, bool DunningPaused, string Status, decimal Amount, string Currency, DateTimeOffset OpenedAt, DateTimeOffset? ClosedAt,
    int RetriesMade, string? LastDeclineCode, DateTimeOffset? NextAttemptAt, double? NextAttemptProbability, string? NextAttemptReason,
    int EscalationStep, string? FinalAction, int PolicyVersion, DateTimeOffset UpdatedAt)
{
    public bool IsOpen => Status is "retry_pending" or "retrying" or "awaiting_payment_method";

    /// <summary>Why the case is stuck under <paramref name="rule"/> (see <see cref="Engine.Dunning.StuckCase"/>), or null.</summary>
    public string? StuckBecause(Engine.Dunning.StuckCase rule, DateTimeOffset now) =>
        rule.Why(IsOpen, Status == "retrying" ? UpdatedAt : null,
            Attempts.Where(a => a.Status is "pending" or "unknown").Select(a => (DateTimeOffset?)a.StartedAt).Min(), now);

    /// <summary>Every payment attempt on the case's invoice, first to last, the one that opened the case included.</summary>
    public IReadOnlyList<PaymentAttemptRow> Attempts { get; init; } = [];

    /// <summary>The escalation steps the case has taken, in ladder order.</summary>
    public IReadOnlyList<DunningStepRow> Steps { get; init; } = [];
}

public sealed record DunningStepRow(int Day, string Action, string? Template, int PolicyVersion, DateTimeOffset TakenAt);

/// <summary>One dunning case with its invoice, customer and payment attempts, read in one round trip.</summary>
public sealed class DunningCaseDetails(NpgsqlDataSource dataSource)
{
    public async Task<DunningCaseDetail?> FindAsync(Guid caseId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            select d.id, d.invoice_id, i.number as invoice_number, i.status as invoice_status, d.customer_id, c.name as customer_name,
                   c.email as customer_email, c.dunning_paused, d.status, d.amount, d.currency, d.opened_at, d.closed_at, d.retries_made,
                   d.last_decline_code, d.next_attempt_at, d.next_attempt_probability, d.next_attempt_reason, d.escalation_step, d.final_action,
                   d.policy_version, d.updated_at
            from dunning_cases d join invoices i on i.id = d.invoice_id join customers c on c.id = d.customer_id
            where d.id = @caseId;
            select a.id, a.invoice_id, a.attempt_number, a.status, a.trigger, a.amount, a.currency, a.decline_code, a.failure_message,
                   a.gateway_reference, a.started_at, a.completed_at, a.latency_ms
            from payment_attempts a where a.invoice_id = (select invoice_id from dunning_cases where id = @caseId)
            order by a.attempt_number;
            select s.day, s.action, s.template, s.policy_version, s.taken_at from dunning_case_steps s where s.case_id = @caseId order by s.day;
            """, new { caseId }, cancellationToken: ct));
        var dunningCase = await results.ReadSingleOrDefaultAsync<DunningCaseDetail>();
        if (dunningCase is null) return null;
        return dunningCase with
        {
            Attempts = (await results.ReadAsync<PaymentAttemptRow>()).ToList(),
            Steps = (await results.ReadAsync<DunningStepRow>()).ToList(),
        };
    }
}
