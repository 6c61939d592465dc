using System.Reflection;
using BillingConsole.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Writes rows of <typeparamref name="T"/> into one table with binary COPY. The columns come from the catalog — every column
/// but generated and identity ones, so invoices.amount_due and ledger_entries.id are left to PostgreSQL — and each is read
/// from the property of <typeparamref name="T"/> named like the column (address_line1 → AddressLine1). Enums are written as
/// their snake_case names. A column without a property fails at once, naming both.
/// </summary>
internal sealed class CopyTable<T>
{
    private static readonly Dictionary<string, NpgsqlDbType> DbTypes = new()
    {
        ["uuid"] = NpgsqlDbType.Uuid, ["text"] = NpgsqlDbType.Text, ["varchar"] = NpgsqlDbType.Varchar, ["bpchar"] = NpgsqlDbType.Char,
        ["jsonb"] = NpgsqlDbType.Jsonb, ["numeric"] = NpgsqlDbType.Numeric, ["timestamptz"] = NpgsqlDbType.TimestampTz,
        ["int4"] = NpgsqlDbType.Integer, ["int8"] = NpgsqlDbType.Bigint, ["bool"] = NpgsqlDbType.Boolean,
        ["float8"] = NpgsqlDbType.Double, ["date"] = NpgsqlDbType.Date,
    };

    private readonly string _copyCommand;
    private readonly Action<NpgsqlBinaryImporter, T>[] _columns;

    private CopyTable(string table, List<string> names, Action<NpgsqlBinaryImporter, T>[] columns)
    {
        Table = table;
        _copyCommand = $"COPY {table} ({string.Join(", ", names)}) FROM STDIN (FORMAT BINARY)";
        _columns = columns;
    }

    public string Table { get; }

    public static async Task<CopyTable<T>> DescribeAsync(NpgsqlDataSource dataSource, string table, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            select a.attname, t.typname
            from pg_attribute a join pg_type t on t.oid = a.atttypid
            where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' and a.attidentity <> 'a'
            order by a.attnum
            """);
        command.Parameters.AddWithValue(table);
        var names = new List<string>();
        var columns = new List<Action<NpgsqlBinaryImporter, T>>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var name = reader.GetString(0);
            var type = reader.GetString(1);
            var property = typeof(T).GetProperty(PascalCase(name), BindingFlags.Public | BindingFlags.Instance)
                ?? throw new InvalidOperationException($"{typeof(T).Name} has no property for column {table}.{name}.");
            if (!DbTypes.TryGetValue(type, out var dbType))
                throw new InvalidOperationException($"Column {table}.{name} has type {type}, which the demo data writer does not know.");
            names.Add(name);
            columns.Add(Column(property, dbType));
        }
        return new CopyTable<T>(table, names, columns.ToArray());
    }

    public long Write(NpgsqlConnection connection, IReadOnlyList<T> rows)
    {
        if (rows.Count == 0) return 0;
        using var importer = connection.BeginBinaryImport(_copyCommand);
        foreach (var row in rows)
        {
            importer.StartRow();
            foreach (var column in _columns) column(importer, row);
        }
        return (long)importer.Complete();
    }

    private static string PascalCase(string snake) =>
        string.Concat(snake.Split('_').Select(part => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));

    private static Action<NpgsqlBinaryImporter, T> Column(PropertyInfo property, NpgsqlDbType dbType)
    {
        var type = property.PropertyType;
        var underlying = Nullable.GetUnderlyingType(type);
        var (factory, argument) = (underlying, type) switch
        {
            ({ IsEnum: true }, _) => (nameof(NullableEnumColumn), underlying),
            ({ }, _) => (nameof(NullableValueColumn), underlying),
            (null, { IsEnum: true }) => (nameof(EnumColumn), type),
            (null, { IsValueType: true }) => (nameof(ValueColumn), type),
            _ => (nameof(ReferenceColumn), type),
        };
        var method = typeof(CopyTable<T>).GetMethod(factory, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(argument);
        return (Action<NpgsqlBinaryImporter, T>)method.Invoke(null, [property.GetMethod!, dbType])!;
    }

    private static Action<NpgsqlBinaryImporter, T> ValueColumn<TValue>(MethodInfo getter, NpgsqlDbType dbType) where TValue : struct
    {
        var get = getter.CreateDelegate<Func<T, TValue>>();
        return (importer, row) => importer.Write(get(row), dbType);
    }

    private static Action<NpgsqlBinaryImporter, T> EnumColumn<TEnum>(MethodInfo getter, NpgsqlDbType dbType) where TEnum : struct, Enum
    {
        var get = getter.CreateDelegate<Func<T, TEnum>>();
        var names = SnakeCaseNames<TEnum>();
        return (importer, row) => importer.Write(names[get(row)], dbType);
    }

    private static Action<NpgsqlBinaryImporter, T> NullableValueColumn<TValue>(MethodInfo getter, NpgsqlDbType dbType) where TValue : struct
    {
        var get = getter.CreateDelegate<Func<T, TValue?>>();
        return OptionalColumn(row => get(row) is { } value ? (true, value) : (false, default), dbType);
    }

    private static Action<NpgsqlBinaryImporter, T> NullableEnumColumn<TEnum>(MethodInfo getter, NpgsqlDbType dbType) where TEnum : struct, Enum
    {
        var get = getter.CreateDelegate<Func<T, TEnum?>>();
        var names = SnakeCaseNames<TEnum>();
        return OptionalColumn(row => get(row) is { } value ? (true, names[value]) : (false, string.Empty), dbType);
    }

    private static Action<NpgsqlBinaryImporter, T> ReferenceColumn<TValue>(MethodInfo getter, NpgsqlDbType dbType) where TValue : class
    {
        var get = getter.CreateDelegate<Func<T, TValue?>>();
        return OptionalColumn(row => get(row) is { } value ? (true, value) : (false, null!), dbType);
    }

    private static Action<NpgsqlBinaryImporter, T> OptionalColumn<TValue>(Func<T, (bool HasValue, TValue Value)> get, NpgsqlDbType dbType) =>
        (importer, row) =>
        {
            var (hasValue, value) = get(row);
            if (hasValue) importer.Write(value, dbType);
            else importer.WriteNull();
        };

    private static Dictionary<TEnum, string> SnakeCaseNames<TEnum>() where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().ToDictionary(value => value, value => value.ToSnakeCase());
}
