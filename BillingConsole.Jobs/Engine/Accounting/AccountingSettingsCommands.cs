using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Accounting;

/// <summary>The Accounting settings form: a code per ledger account, and the reason that goes in the audit log.</summary>
public sealed class SaveAccountCodes
{
    public Dictionary<LedgerAccount, string?> Codes { get; set; } = [];
    public string? Reason { get; set; }

    public static SaveAccountCodes From(AccountCodes codes) =>
        new() { Codes = AccountCodes.Accounts.ToDictionary(a => a, a => (string?)codes.CodeOf(a)) };

    /// <summary>The validator's field name of one account's code, which the page shows the message under.</summary>
    public static string FieldOf(LedgerAccount account) => $"{nameof(Codes)}.{account}";
}

public sealed class SaveAccountCodesValidator : AbstractValidator<SaveAccountCodes>
{
    public SaveAccountCodesValidator()
    {
        RuleFor(s => s.Codes).Custom((codes, context) =>
        {
            foreach (var account in AccountCodes.Accounts)
            {
                var code = codes.GetValueOrDefault(account)?.Trim();
                if (!AccountCodes.IsCode(code))
                    context.AddFailure(SaveAccountCodes.FieldOf(account),
                        "An account code is 1–20 letters, digits, dots or dashes, starting with a letter or digit, e.g. 4000.");
                else if (AccountCodes.Accounts.Any(other => other < account && codes.GetValueOrDefault(other)?.Trim() == code))
                    context.AddFailure(SaveAccountCodes.FieldOf(account), $"Code {code} is already given to another account: each account has its own.");
            }
        });
        RuleFor(s => s.Reason).NotEmpty().WithMessage("Give a reason: it goes in the audit log.").MaximumLength(1000).NoControlCharacters();
    }
}

/// <summary>The account codes the journal export writes: read, and saved by an admin with a reason, audited before and after.</summary>
public sealed class AccountingSettingsCommands(BillingDbContext db, AuditTrail audit, TimeProvider clock, IValidator<SaveAccountCodes> validator)
{
    public async Task<AccountCodes> CurrentAsync(CancellationToken ct) =>
        AccountCodes.FromJson(await db.Settings.AsNoTracking().Where(s => s.Key == AccountCodes.Key).Select(s => s.Value).FirstOrDefaultAsync(ct));

    public async Task<AccountCodes> SaveAsync(SaveAccountCodes command, Actor actor, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(command, ct);
        var before = await CurrentAsync(ct);
        var saved = new AccountCodes(AccountCodes.Accounts.ToDictionary(a => a, a => command.Codes[a]!.Trim()));
        var row = await db.Settings.FirstOrDefaultAsync(s => s.Key == AccountCodes.Key, ct);
        if (row is null) db.Settings.Add(row = new SettingRecord { Key = AccountCodes.Key });
        row.Value = saved.ToJson();
        row.UpdatedAt = clock.GetUtcNow();
        row.UpdatedBy = actor.Name;
        audit.Record(actor, "settings.account_codes_saved", "setting", AccountCodes.Key, command.Reason!, before.Codes, saved.Codes);
        await db.SaveChangesAsync(ct);
        return saved;
    }
}
