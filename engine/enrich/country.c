/* Country names and codes (country.h): ISO 3166-1 alpha-2, alpha-3 and English names as
 * identity providers and GeoIP databases write them, to one alpha-2 code.
 *
 * Table: every ISO 3166-1 country (249, from the ISO 3166 Maintenance Agency list as shipped by
 * Debian's iso-codes 4.15) plus Kosovo (XK/XKX: user-assigned, but MaxMind and most IdPs use
 * it). Per country: alpha-2, alpha-3, the short English name mmr_country_name returns, and
 * aliases separated by '|': the ISO short name ("Korea, Democratic People's Republic of"), the
 * ISO official name, the names MaxMind GeoLite2/GeoIP2 write in country.names.en ("South
 * Korea", "Russia", "Vietnam", "Hashemite Kingdom of Jordan", "DR Congo"), what Okta writes in
 * client.geographicalContext.country ("United States"), and common variants ("Turkey",
 * "Czech Republic", "Swaziland", "UK", "DPRK"). Entra ID writes alpha-2 codes.
 *
 * Matching key: ASCII letters and digits, lower-cased; Latin-1 letters folded to ASCII
 * ("Türkiye" = "turkiye", "Côte d'Ivoire" = "cotedivoire"); "&" reads "and"; a leading word
 * "the" is dropped; everything else (spaces, punctuation, typographic quotes) is ignored. So
 * "Korea, Republic of", "KOREA REPUBLIC OF" and "korea (republic of)" are one key. A bare
 * "Korea" is deliberately NOT a key: it would have to pick between KP and KR, and a wrong pick
 * hides exactly the country an analyst looks for.
 *
 * Lookup: alpha-2 input (two ASCII letters, the common case) goes through a 26 x 26 index;
 * anything else is normalized into a 48-byte stack buffer and binary-searched in a sorted
 * array of all keys (about 1,000 keys in a 16 KiB string pool plus 4 bytes each, built once
 * under pthread_once, no allocation), i.e. about 10 short string comparisons. An input whose
 * key would exceed 47 bytes matches nothing (the longest table key,
 * "unitedkingdomofgreatbritainandnorthernireland", has 45).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/country.h"

typedef struct {
	char a2[3];
	char a3[4];
	const char *name;    /* short English name */
	const char *aliases; /* '|'-separated, or NULL */
} country;

static const country COUNTRIES[] = {
	{"AD", "AND", "Andorra", "Principality of Andorra"},
	{"AE", "ARE", "United Arab Emirates", "UAE"},
	{"AF", "AFG", "Afghanistan", "Islamic Republic of Afghanistan"},
	{"AG", "ATG", "Antigua and Barbuda", NULL},
	{"AI", "AIA", "Anguilla", NULL},
	{"AL", "ALB", "Albania", "Republic of Albania"},
	{"AM", "ARM", "Armenia", "Republic of Armenia"},
	{"AO", "AGO", "Angola", "Republic of Angola"},
	{"AQ", "ATA", "Antarctica", NULL},
	{"AR", "ARG", "Argentina", "Argentine Republic"},
	{"AS", "ASM", "American Samoa", NULL},
	{"AT", "AUT", "Austria", "Republic of Austria"},
	{"AU", "AUS", "Australia", NULL},
	{"AW", "ABW", "Aruba", NULL},
	{"AX", "ALA", "Åland Islands", "Åland"},
	{"AZ", "AZE", "Azerbaijan", "Republic of Azerbaijan"},
	{"BA", "BIH", "Bosnia and Herzegovina", "Republic of Bosnia and Herzegovina"},
	{"BB", "BRB", "Barbados", NULL},
	{"BD", "BGD", "Bangladesh", "People's Republic of Bangladesh"},
	{"BE", "BEL", "Belgium", "Kingdom of Belgium"},
	{"BF", "BFA", "Burkina Faso", NULL},
	{"BG", "BGR", "Bulgaria", "Republic of Bulgaria"},
	{"BH", "BHR", "Bahrain", "Kingdom of Bahrain"},
	{"BI", "BDI", "Burundi", "Republic of Burundi"},
	{"BJ", "BEN", "Benin", "Republic of Benin"},
	{"BL", "BLM", "Saint Barthélemy", "St Barthelemy|Saint Barthelemy"},
	{"BM", "BMU", "Bermuda", NULL},
	{"BN", "BRN", "Brunei", "Brunei Darussalam"},
	{"BO", "BOL", "Bolivia", "Bolivia, Plurinational State of|Plurinational State of Bolivia"},
	{"BQ", "BES", "Bonaire, Sint Eustatius and Saba", "Caribbean Netherlands|Bonaire"},
	{"BR", "BRA", "Brazil", "Federative Republic of Brazil"},
	{"BS", "BHS", "Bahamas", "Commonwealth of the Bahamas"},
	{"BT", "BTN", "Bhutan", "Kingdom of Bhutan"},
	{"BV", "BVT", "Bouvet Island", NULL},
	{"BW", "BWA", "Botswana", "Republic of Botswana"},
	{"BY", "BLR", "Belarus", "Republic of Belarus"},
	{"BZ", "BLZ", "Belize", NULL},
	{"CA", "CAN", "Canada", NULL},
	{"CC", "CCK", "Cocos (Keeling) Islands", "Cocos Islands|Keeling Islands"},
	{"CD", "COD", "DR Congo",
		"Congo, The Democratic Republic of the|Congo, Democratic Republic of the|"
		"Democratic Republic of the Congo|Congo (Kinshasa)|Congo-Kinshasa|DRC"},
	{"CF", "CAF", "Central African Republic", NULL},
	{"CG", "COG", "Congo Republic",
		"Congo|Republic of the Congo|Congo (Brazzaville)|Congo-Brazzaville"},
	{"CH", "CHE", "Switzerland", "Swiss Confederation"},
	{"CI", "CIV", "Côte d'Ivoire", "Republic of Côte d'Ivoire|Ivory Coast"},
	{"CK", "COK", "Cook Islands", NULL},
	{"CL", "CHL", "Chile", "Republic of Chile"},
	{"CM", "CMR", "Cameroon", "Republic of Cameroon"},
	{"CN", "CHN", "China", "People's Republic of China|PRC|Mainland China"},
	{"CO", "COL", "Colombia", "Republic of Colombia"},
	{"CR", "CRI", "Costa Rica", "Republic of Costa Rica"},
	{"CU", "CUB", "Cuba", "Republic of Cuba"},
	{"CV", "CPV", "Cabo Verde", "Republic of Cabo Verde|Cape Verde"},
	{"CW", "CUW", "Curaçao", NULL},
	{"CX", "CXR", "Christmas Island", NULL},
	{"CY", "CYP", "Cyprus", "Republic of Cyprus"},
	{"CZ", "CZE", "Czechia", "Czech Republic"},
	{"DE", "DEU", "Germany", "Federal Republic of Germany"},
	{"DJ", "DJI", "Djibouti", "Republic of Djibouti"},
	{"DK", "DNK", "Denmark", "Kingdom of Denmark"},
	{"DM", "DMA", "Dominica", "Commonwealth of Dominica"},
	{"DO", "DOM", "Dominican Republic", NULL},
	{"DZ", "DZA", "Algeria", "People's Democratic Republic of Algeria"},
	{"EC", "ECU", "Ecuador", "Republic of Ecuador"},
	{"EE", "EST", "Estonia", "Republic of Estonia"},
	{"EG", "EGY", "Egypt", "Arab Republic of Egypt"},
	{"EH", "ESH", "Western Sahara", NULL},
	{"ER", "ERI", "Eritrea", "the State of Eritrea"},
	{"ES", "ESP", "Spain", "Kingdom of Spain"},
	{"ET", "ETH", "Ethiopia", "Federal Democratic Republic of Ethiopia"},
	{"FI", "FIN", "Finland", "Republic of Finland"},
	{"FJ", "FJI", "Fiji", "Republic of Fiji"},
	{"FK", "FLK", "Falkland Islands", "Falkland Islands (Malvinas)"},
	{"FM", "FSM", "Micronesia",
		"Micronesia, Federated States of|Federated States of Micronesia"},
	{"FO", "FRO", "Faroe Islands", NULL},
	{"FR", "FRA", "France", "French Republic"},
	{"GA", "GAB", "Gabon", "Gabonese Republic"},
	{"GB", "GBR", "United Kingdom",
		"United Kingdom of Great Britain and Northern Ireland|UK|Great Britain|Britain|"
		"England|Scotland|Wales|Northern Ireland"},
	{"GD", "GRD", "Grenada", NULL},
	{"GE", "GEO", "Georgia", NULL},
	{"GF", "GUF", "French Guiana", NULL},
	{"GG", "GGY", "Guernsey", NULL},
	{"GH", "GHA", "Ghana", "Republic of Ghana"},
	{"GI", "GIB", "Gibraltar", NULL},
	{"GL", "GRL", "Greenland", NULL},
	{"GM", "GMB", "Gambia", "Republic of the Gambia"},
	{"GN", "GIN", "Guinea", "Republic of Guinea"},
	{"GP", "GLP", "Guadeloupe", NULL},
	{"GQ", "GNQ", "Equatorial Guinea", "Republic of Equatorial Guinea"},
	{"GR", "GRC", "Greece", "Hellenic Republic"},
	{"GS", "SGS", "South Georgia and the South Sandwich Islands", "South Georgia"},
	{"GT", "GTM", "Guatemala", "Republic of Guatemala"},
	{"GU", "GUM", "Guam", NULL},
	{"GW", "GNB", "Guinea-Bissau", "Republic of Guinea-Bissau"},
	{"GY", "GUY", "Guyana", "Republic of Guyana"},
	{"HK", "HKG", "Hong Kong",
		"Hong Kong Special Administrative Region of China|Hong Kong SAR|"
		"Hong Kong SAR China"},
	{"HM", "HMD", "Heard Island and McDonald Islands", NULL},
	{"HN", "HND", "Honduras", "Republic of Honduras"},
	{"HR", "HRV", "Croatia", "Republic of Croatia"},
	{"HT", "HTI", "Haiti", "Republic of Haiti"},
	{"HU", "HUN", "Hungary", NULL},
	{"ID", "IDN", "Indonesia", "Republic of Indonesia"},
	{"IE", "IRL", "Ireland", "Republic of Ireland"},
	{"IL", "ISR", "Israel", "State of Israel"},
	{"IM", "IMN", "Isle of Man", NULL},
	{"IN", "IND", "India", "Republic of India"},
	{"IO", "IOT", "British Indian Ocean Territory", NULL},
	{"IQ", "IRQ", "Iraq", "Republic of Iraq"},
	{"IR", "IRN", "Iran", "Iran, Islamic Republic of|Islamic Republic of Iran"},
	{"IS", "ISL", "Iceland", "Republic of Iceland"},
	{"IT", "ITA", "Italy", "Italian Republic"},
	{"JE", "JEY", "Jersey", NULL},
	{"JM", "JAM", "Jamaica", NULL},
	{"JO", "JOR", "Jordan", "Hashemite Kingdom of Jordan"},
	{"JP", "JPN", "Japan", NULL},
	{"KE", "KEN", "Kenya", "Republic of Kenya"},
	{"KG", "KGZ", "Kyrgyzstan", "Kyrgyz Republic"},
	{"KH", "KHM", "Cambodia", "Kingdom of Cambodia"},
	{"KI", "KIR", "Kiribati", "Republic of Kiribati"},
	{"KM", "COM", "Comoros", "Union of the Comoros"},
	{"KN", "KNA", "Saint Kitts and Nevis", "St Kitts and Nevis|Saint Christopher and Nevis"},
	{"KP", "PRK", "North Korea",
		"Korea, Democratic People's Republic of|Democratic People's Republic of Korea|"
		"DPRK|Korea, North|Korea (North)|DPR Korea"},
	{"KR", "KOR", "South Korea",
		"Korea, Republic of|Republic of Korea|Korea, South|Korea (South)|Korea Republic"},
	{"KW", "KWT", "Kuwait", "State of Kuwait"},
	{"KY", "CYM", "Cayman Islands", NULL},
	{"KZ", "KAZ", "Kazakhstan", "Republic of Kazakhstan"},
	{"LA", "LAO", "Laos", "Lao People's Democratic Republic|Lao PDR"},
	{"LB", "LBN", "Lebanon", "Lebanese Republic"},
	{"LC", "LCA", "Saint Lucia", "St Lucia"},
	{"LI", "LIE", "Liechtenstein", "Principality of Liechtenstein"},
	{"LK", "LKA", "Sri Lanka", "Democratic Socialist Republic of Sri Lanka"},
	{"LR", "LBR", "Liberia", "Republic of Liberia"},
	{"LS", "LSO", "Lesotho", "Kingdom of Lesotho"},
	{"LT", "LTU", "Lithuania", "Republic of Lithuania"},
	{"LU", "LUX", "Luxembourg", "Grand Duchy of Luxembourg"},
	{"LV", "LVA", "Latvia", "Republic of Latvia"},
	{"LY", "LBY", "Libya", "Libyan Arab Jamahiriya"},
	{"MA", "MAR", "Morocco", "Kingdom of Morocco"},
	{"MC", "MCO", "Monaco", "Principality of Monaco"},
	{"MD", "MDA", "Moldova", "Moldova, Republic of|Republic of Moldova"},
	{"ME", "MNE", "Montenegro", NULL},
	{"MF", "MAF", "Saint Martin", "Saint Martin (French part)|St Martin"},
	{"MG", "MDG", "Madagascar", "Republic of Madagascar"},
	{"MH", "MHL", "Marshall Islands", "Republic of the Marshall Islands"},
	{"MK", "MKD", "North Macedonia",
		"Republic of North Macedonia|Macedonia|Republic of Macedonia|"
		"Macedonia, the former Yugoslav Republic of|"
		"The former Yugoslav Republic of Macedonia"},
	{"ML", "MLI", "Mali", "Republic of Mali"},
	{"MM", "MMR", "Myanmar", "Republic of Myanmar|Burma"},
	{"MN", "MNG", "Mongolia", NULL},
	{"MO", "MAC", "Macao", "Macao Special Administrative Region of China|Macau"},
	{"MP", "MNP", "Northern Mariana Islands", "Commonwealth of the Northern Mariana Islands"},
	{"MQ", "MTQ", "Martinique", NULL},
	{"MR", "MRT", "Mauritania", "Islamic Republic of Mauritania"},
	{"MS", "MSR", "Montserrat", NULL},
	{"MT", "MLT", "Malta", "Republic of Malta"},
	{"MU", "MUS", "Mauritius", "Republic of Mauritius"},
	{"MV", "MDV", "Maldives", "Republic of Maldives"},
	{"MW", "MWI", "Malawi", "Republic of Malawi"},
	{"MX", "MEX", "Mexico", "United Mexican States"},
	{"MY", "MYS", "Malaysia", NULL},
	{"MZ", "MOZ", "Mozambique", "Republic of Mozambique"},
	{"NA", "NAM", "Namibia", "Republic of Namibia"},
	{"NC", "NCL", "New Caledonia", NULL},
	{"NE", "NER", "Niger", "Republic of the Niger"},
	{"NF", "NFK", "Norfolk Island", NULL},
	{"NG", "NGA", "Nigeria", "Federal Republic of Nigeria"},
	{"NI", "NIC", "Nicaragua", "Republic of Nicaragua"},
	{"NL", "NLD", "Netherlands", "Kingdom of the Netherlands|Holland"},
	{"NO", "NOR", "Norway", "Kingdom of Norway"},
	{"NP", "NPL", "Nepal", "Federal Democratic Republic of Nepal"},
	{"NR", "NRU", "Nauru", "Republic of Nauru"},
	{"NU", "NIU", "Niue", NULL},
	{"NZ", "NZL", "New Zealand", NULL},
	{"OM", "OMN", "Oman", "Sultanate of Oman"},
	{"PA", "PAN", "Panama", "Republic of Panama"},
	{"PE", "PER", "Peru", "Republic of Peru"},
	{"PF", "PYF", "French Polynesia", NULL},
	{"PG", "PNG", "Papua New Guinea", "Independent State of Papua New Guinea"},
	{"PH", "PHL", "Philippines", "Republic of the Philippines"},
	{"PK", "PAK", "Pakistan", "Islamic Republic of Pakistan"},
	{"PL", "POL", "Poland", "Republic of Poland"},
	{"PM", "SPM", "Saint Pierre and Miquelon", "St Pierre and Miquelon"},
	{"PN", "PCN", "Pitcairn Islands", "Pitcairn"},
	{"PR", "PRI", "Puerto Rico", NULL},
	{"PS", "PSE", "Palestine",
		"Palestine, State of|the State of Palestine|State of Palestine|"
		"Palestinian Territory|Palestinian Territories"},
	{"PT", "PRT", "Portugal", "Portuguese Republic"},
	{"PW", "PLW", "Palau", "Republic of Palau"},
	{"PY", "PRY", "Paraguay", "Republic of Paraguay"},
	{"QA", "QAT", "Qatar", "State of Qatar"},
	{"RE", "REU", "Réunion", NULL},
	{"RO", "ROU", "Romania", NULL},
	{"RS", "SRB", "Serbia", "Republic of Serbia"},
	{"RU", "RUS", "Russia", "Russian Federation"},
	{"RW", "RWA", "Rwanda", "Rwandese Republic"},
	{"SA", "SAU", "Saudi Arabia", "Kingdom of Saudi Arabia"},
	{"SB", "SLB", "Solomon Islands", NULL},
	{"SC", "SYC", "Seychelles", "Republic of Seychelles"},
	{"SD", "SDN", "Sudan", "Republic of the Sudan"},
	{"SE", "SWE", "Sweden", "Kingdom of Sweden"},
	{"SG", "SGP", "Singapore", "Republic of Singapore"},
	{"SH", "SHN", "Saint Helena", "Saint Helena, Ascension and Tristan da Cunha|St Helena"},
	{"SI", "SVN", "Slovenia", "Republic of Slovenia"},
	{"SJ", "SJM", "Svalbard and Jan Mayen", NULL},
	{"SK", "SVK", "Slovakia", "Slovak Republic"},
	{"SL", "SLE", "Sierra Leone", "Republic of Sierra Leone"},
	{"SM", "SMR", "San Marino", "Republic of San Marino"},
	{"SN", "SEN", "Senegal", "Republic of Senegal"},
	{"SO", "SOM", "Somalia", "Federal Republic of Somalia"},
	{"SR", "SUR", "Suriname", "Republic of Suriname"},
	{"SS", "SSD", "South Sudan", "Republic of South Sudan"},
	{"ST", "STP", "São Tomé and Príncipe",
		"Sao Tome and Principe|Democratic Republic of Sao Tome and Principe"},
	{"SV", "SLV", "El Salvador", "Republic of El Salvador"},
	{"SX", "SXM", "Sint Maarten", "Sint Maarten (Dutch part)"},
	{"SY", "SYR", "Syria", "Syrian Arab Republic"},
	{"SZ", "SWZ", "Eswatini", "Kingdom of Eswatini|Swaziland"},
	{"TC", "TCA", "Turks and Caicos Islands", NULL},
	{"TD", "TCD", "Chad", "Republic of Chad"},
	{"TF", "ATF", "French Southern Territories", NULL},
	{"TG", "TGO", "Togo", "Togolese Republic"},
	{"TH", "THA", "Thailand", "Kingdom of Thailand"},
	{"TJ", "TJK", "Tajikistan", "Republic of Tajikistan"},
	{"TK", "TKL", "Tokelau", NULL},
	{"TL", "TLS", "Timor-Leste", "Democratic Republic of Timor-Leste|East Timor"},
	{"TM", "TKM", "Turkmenistan", NULL},
	{"TN", "TUN", "Tunisia", "Republic of Tunisia"},
	{"TO", "TON", "Tonga", "Kingdom of Tonga"},
	{"TR", "TUR", "Türkiye", "Republic of Türkiye|Turkey|Turkiye"},
	{"TT", "TTO", "Trinidad and Tobago", "Republic of Trinidad and Tobago"},
	{"TV", "TUV", "Tuvalu", NULL},
	{"TW", "TWN", "Taiwan", "Taiwan, Province of China|Republic of China|Chinese Taipei"},
	{"TZ", "TZA", "Tanzania", "Tanzania, United Republic of|United Republic of Tanzania"},
	{"UA", "UKR", "Ukraine", NULL},
	{"UG", "UGA", "Uganda", "Republic of Uganda"},
	{"UM", "UMI", "U.S. Outlying Islands",
		"United States Minor Outlying Islands|U.S. Minor Outlying Islands"},
	{"US", "USA", "United States", "United States of America|U.S.A."},
	{"UY", "URY", "Uruguay", "Eastern Republic of Uruguay"},
	{"UZ", "UZB", "Uzbekistan", "Republic of Uzbekistan"},
	{"VA", "VAT", "Vatican City", "Holy See (Vatican City State)|Holy See|Vatican"},
	{"VC", "VCT", "Saint Vincent and the Grenadines",
		"St Vincent and the Grenadines|St Vincent and Grenadines|"
		"Saint Vincent and Grenadines"},
	{"VE", "VEN", "Venezuela",
		"Venezuela, Bolivarian Republic of|Bolivarian Republic of Venezuela"},
	{"VG", "VGB", "British Virgin Islands", "Virgin Islands, British"},
	{"VI", "VIR", "U.S. Virgin Islands",
		"Virgin Islands, U.S.|Virgin Islands of the United States|"
		"United States Virgin Islands"},
	{"VN", "VNM", "Vietnam",
		"Viet Nam|Socialist Republic of Viet Nam|Socialist Republic of Vietnam"},
	{"VU", "VUT", "Vanuatu", "Republic of Vanuatu"},
	{"WF", "WLF", "Wallis and Futuna", NULL},
	{"WS", "WSM", "Samoa", "Independent State of Samoa"},
	{"XK", "XKX", "Kosovo", "Republic of Kosovo"},
	{"YE", "YEM", "Yemen", "Republic of Yemen"},
	{"YT", "MYT", "Mayotte", NULL},
	{"ZA", "ZAF", "South Africa", "Republic of South Africa"},
	{"ZM", "ZMB", "Zambia", "Republic of Zambia"},
	{"ZW", "ZWE", "Zimbabwe", "Republic of Zimbabwe"},
};

#define NCOUNTRIES (sizeof(COUNTRIES) / sizeof(COUNTRIES[0]))
#define KEY_MAX 48      /* normalized key incl. NUL; the longest table key has 45 bytes */
#define MAX_KEYS 1536   /* alpha-2 + alpha-3 + name + aliases of all countries (about 1,000) */
#define POOL_BYTES 16384 /* about 9.4 KiB used */

typedef struct {
	uint16_t off; /* key in pool */
	uint16_t idx; /* COUNTRIES[idx] */
} key_entry;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char pool[POOL_BYTES];
static size_t pool_used;
static key_entry keys[MAX_KEYS];
static size_t nkeys;
static int16_t by_a2[26 * 26]; /* alpha-2 "AB" -> COUNTRIES index, -1 none */

/* Latin-1 letters U+00C0..U+00FF (UTF-8 C3 80..C3 BF) folded to ASCII; "" = ignored. */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

static bool put(char *k, size_t *n, const char *s)
{
	size_t l = strlen(s);
	if (*n + l >= KEY_MAX)
		return false;
	memcpy(k + *n, s, l);
	*n += l;
	return true;
}

/* Normalizes s (at most len bytes, or up to its NUL) into k[KEY_MAX]; returns the key length,
 * 0 when s has no key (empty, too long, or non-Latin characters no name contains). */
static size_t normalize(const char *s, size_t len, char *k)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n = 0;
	while (p < end && *p && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p > 3 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'h' &&
	    (p[2] | 0x20) == 'e' && (p[3] == ' ' || p[3] == '\t'))
		p += 4;
	for (; p < end && *p; p++) {
		unsigned c = *p;
		if (c < 0x80) {
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				char one[2] = {(char)c, 0};
				if (!put(k, &n, one))
					return 0;
			} else if (c >= 'A' && c <= 'Z') {
				char one[2] = {(char)(c - 'A' + 'a'), 0};
				if (!put(k, &n, one))
					return 0;
			} else if (c == '&') {
				if (!put(k, &n, "and"))
					return 0;
			}
			continue;
		}
		if (c == 0xc3 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0xbf) {
			if (!put(k, &n, latin1_fold[p[1] - 0x80]))
				return 0;
			p++;
		} else if (c == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0xbf) {
			p++; /* U+0080..U+00BF: no-break space, punctuation, symbols */
		} else if (c == 0xe2 && p + 2 < end && p[1] == 0x80 && p[2] >= 0x80 &&
			   p[2] <= 0xbf) {
			p += 2; /* U+2000..U+203F: spaces, dashes, typographic quotes */
		} else {
			return 0;
		}
	}
	k[n] = '\0';
	return n;
}

static void add_key(const char *s, size_t len, size_t idx)
{
	char k[KEY_MAX];
	size_t n = normalize(s, len, k);
	if (n == 0 || nkeys >= MAX_KEYS || pool_used + n + 1 > POOL_BYTES)
		return; /* cannot happen with this table; test_country checks every name */
	memcpy(pool + pool_used, k, n + 1);
	keys[nkeys].off = (uint16_t)pool_used;
	keys[nkeys].idx = (uint16_t)idx;
	nkeys++;
	pool_used += n + 1;
}

static int key_cmp(const void *a, const void *b)
{
	const key_entry *x = a, *y = b;
	int c = strcmp(pool + x->off, pool + y->off);
	return c ? c : (int)x->idx - (int)y->idx;
}

static void build(void)
{
	for (size_t i = 0; i < 26 * 26; i++)
		by_a2[i] = -1;
	for (size_t i = 0; i < NCOUNTRIES; i++) {
		const country *c = &COUNTRIES[i];
		by_a2[(c->a2[0] - 'A') * 26 + (c->a2[1] - 'A')] = (int16_t)i;
		add_key(c->a2, 2, i);
		add_key(c->a3, 3, i);
		add_key(c->name, strlen(c->name), i);
		for (const char *a = c->aliases; a && *a;) {
			const char *bar = strchr(a, '|');
			size_t l = bar ? (size_t)(bar - a) : strlen(a);
			add_key(a, l, i);
			a = bar ? bar + 1 : a + l;
		}
	}
	qsort(keys, nkeys, sizeof(keys[0]), key_cmp);
	/* drop duplicates (a name equal to its alias after normalization); on a key shared by two
	 * countries the first (lower index) wins, but the table has none */
	size_t w = 0;
	for (size_t r = 0; r < nkeys; r++)
		if (w == 0 || strcmp(pool + keys[w - 1].off, pool + keys[r].off) != 0)
			keys[w++] = keys[r];
	nkeys = w;
}

static inline int letter(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	return -1;
}

/* COUNTRIES index of an exact two-letter string (any case), or -1. */
static int a2_index(const char *s)
{
	int a = letter((unsigned char)s[0]), b = a < 0 ? -1 : letter((unsigned char)s[1]);
	if (b < 0 || s[2] != '\0')
		return -1;
	return by_a2[a * 26 + b];
}

bool mmr_country_code(const char *s, char code[3])
{
	char dummy[3];
	if (code == NULL)
		code = dummy;
	code[0] = '\0';
	if (s == NULL || s[0] == '\0')
		return false;
	pthread_once(&once, build);

	int i = (s[1] != '\0') ? a2_index(s) : -1;
	if (i < 0) {
		char k[KEY_MAX];
		if (normalize(s, strlen(s), k) == 0)
			return false;
		size_t lo = 0, hi = nkeys;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(k, pool + keys[mid].off);
			if (c == 0) {
				i = keys[mid].idx;
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (i < 0)
			return false;
	}
	memcpy(code, COUNTRIES[i].a2, 3);
	return true;
}

const char *mmr_country_name(const char *code)
{
	if (code == NULL || code[0] == '\0' || code[1] == '\0')
		return NULL;
	pthread_once(&once, build);
	int i = a2_index(code);
	return i < 0 ? NULL : COUNTRIES[i].name;
}
